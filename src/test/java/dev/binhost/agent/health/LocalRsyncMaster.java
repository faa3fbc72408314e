package dev.binhost.agent.health;

import dev.binhost.agent.testing.RsyncDaemon;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Starts a real rsync daemon on loopback for a Quarkus test and points the agent's master at it. */
public class LocalRsyncMaster implements QuarkusTestResourceLifecycleManager {
    static volatile RsyncDaemon daemon;
    private Path dir;

    @Override
    public Map<String, String> start() {
        try {
            dir = Files.createTempDirectory("binhost-health-");
            Files.createDirectories(dir.resolve("tree/make.conf"));
            daemon = RsyncDaemon.serve(dir.resolve("daemon"), "portage-config", dir.resolve("tree"));
            return Map.of("binhost.master.rsync-port", String.valueOf(daemon.port));
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test master: " + e.getMessage(), e);
        }
    }

    static void stopDaemon() throws InterruptedException {
        daemon.close();
    }

    @Override
    public void stop() {
        try {
            daemon.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
