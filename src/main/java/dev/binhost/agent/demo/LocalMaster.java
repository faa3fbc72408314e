package dev.binhost.agent.demo;

import dev.binhost.agent.master.MasterConfig;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo's master: writes an example master {@code /etc/portage} (01* files to share, the master's own 02*
 * files and an editor backup that must not travel) and serves it with a real rsync daemon on loopback, module
 * {@code portage-config}, as the seed's rsyncd.conf does. Also seeds the slave's own 02* files once.
 */
@ApplicationScoped
public class LocalMaster {
    @Inject
    DemoConfig demo;
    @Inject
    MasterConfig master;

    private Process daemon;

    /**
     * After ConfigCheck (priority 1), so a configuration error or a state directory held by another agent never
     * starts a daemon, and before the watches (priority 100), so the first probe finds it.
     */
    void start(@Observes @Priority(2) StartupEvent event) {
        if (!demo.localMaster()) {
            return;
        }
        Path dir = demo.dir().toAbsolutePath().normalize();
        try {
            Path tree = dir.resolve("master/etc/portage");
            copyResources(dir);
            Path conf = dir.resolve("master/rsyncd.conf");
            Files.writeString(conf, """
                    # binhost-agent demo master: the seed's rsyncd.conf, on loopback, without chroot (no root needed)
                    use chroot = no
                    read only = yes
                    log file = %s
                    [%s]
                        path = %s
                        comment = Portage configuration (binhost-agent demo master)
                        dont compress = *
                    """.formatted(dir.resolve("master/rsyncd.log"), master.rsyncModule(), tree));
            List<String> argv = List.of("rsync", "--daemon", "--no-detach", "--config=" + conf,
                    "--port=" + master.rsyncPort(), "--address=" + master.host());
            daemon = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("master/rsyncd.out").toFile()).start();
            // a start that fails after this point exits without a ShutdownEvent; the daemon must not outlive it
            Process started = daemon;
            Runtime.getRuntime().addShutdownHook(new Thread(started::destroy, "demo-master-stop"));
            if (daemon.waitFor(300, TimeUnit.MILLISECONDS)) {
                Log.errorf("Demo master: rsync daemon exited at once (code %d): %s", daemon.exitValue(),
                        Files.readString(dir.resolve("master/rsyncd.out")).strip());
                return;
            }
            Log.infof("Demo master: rsync daemon pid %d serves %s as %s::%s on port %d", daemon.pid(), tree,
                    master.host(), master.rsyncModule(), master.rsyncPort());
            Log.infof("Demo master: stop it with `kill %d` to see readiness go DOWN; start it again with `%s &`",
                    daemon.pid(), String.join(" ", argv));
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("error=2")) {
                Log.error("Demo master: rsync is not installed (Debian: apt-get install rsync; "
                        + "Gentoo: emerge net-misc/rsync); the master will stay DOWN");
            } else {
                Log.errorf("Demo master: cannot start: %s", e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void stop(@Observes ShutdownEvent event) {
        Process p = daemon;
        if (p != null && p.isAlive()) {
            p.destroy();
        }
    }

    /** Copies the packaged example trees; the slave's 02* files only when absent (the admin may edit them). */
    static void copyResources(Path dir) throws IOException {
        List<String> files;
        try (InputStream index = resource("files.txt")) {
            files = new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8)).lines()
                    .filter(l -> !l.isBlank()).toList();
        }
        for (String file : files) {
            // Maven leaves editor backups (*~) out of the build, so the demo's backup travels as *~.tilde.
            Path target = dir.resolve(file.endsWith("~.tilde") ? file.substring(0, file.length() - 6) : file);
            if (file.startsWith("slave/") && Files.exists(target)) {
                continue;
            }
            Files.createDirectories(target.getParent());
            try (InputStream in = resource(file)) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = LocalMaster.class.getResourceAsStream("/demo/" + name);
        if (in == null) {
            throw new IOException("demo resource missing from the build: " + name);
        }
        return in;
    }
}
