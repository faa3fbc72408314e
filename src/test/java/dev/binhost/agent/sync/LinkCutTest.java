package dev.binhost.agent.sync;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.testing.RsyncDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A master in its own network namespace whose link dies mid-pull: rsync's --timeout does not end the hang, the
 * runner's deadline does, and the live tree is untouched. The slave's rsync runs in a second namespace, so no
 * packet can leave through the host's default route.
 */
class LinkCutTest {
    static final ProcessRunner RUNNER = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1), 65536);
    static final String SUBNET = "10.213." + (ProcessHandle.current().pid() % 250) + ".";

    @TempDir
    Path work;
    final String master = "bhs-m-" + ProcessHandle.current().pid();
    final String slave = "bhs-s-" + ProcessHandle.current().pid();
    final List<String> created = new ArrayList<>();
    RsyncDaemon daemon;

    @BeforeEach
    void namespaces() throws Exception {
        Assumptions.assumeTrue(new JnrPosix().geteuid() == 0, "network namespaces need root; not root here");
        Assumptions.assumeTrue(sh("ip", "netns", "add", master) == 0, "cannot create a network namespace");
        created.add(master);
        assertEquals(0, sh("ip", "netns", "add", slave));
        created.add(slave);
        assertEquals(0, sh("ip", "link", "add", "vm" + pidTag(), "netns", master, "type", "veth", "peer", "name",
                "vs" + pidTag(), "netns", slave));
        assertEquals(0, ns(master, "ip", "addr", "add", SUBNET + "1/30", "dev", "vm" + pidTag()));
        assertEquals(0, ns(slave, "ip", "addr", "add", SUBNET + "2/30", "dev", "vs" + pidTag()));
        for (String n : List.of(master, slave)) {
            assertEquals(0, ns(n, "ip", "link", "set", "lo", "up"));
        }
        assertEquals(0, ns(master, "ip", "link", "set", "vm" + pidTag(), "up"));
        assertEquals(0, ns(slave, "ip", "link", "set", "vs" + pidTag(), "up"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        for (String n : created) {
            sh("ip", "netns", "del", n);
        }
    }

    @Test
    void pull_whenTheMastersLinkIsCutMidTransfer_endsAtTheDeadlineLeavesTheLiveTreeAndRecovers() throws Exception {
        Path tree = work.resolve("master/etc/portage");
        ConfigPullTest.write(tree.resolve("package.use/01master"), "app-office/libreoffice -gtk\n");
        ConfigPullTest.write(tree.resolve("env/nostrip"), "FEATURES=nostrip\n");
        daemon = RsyncDaemon.start(work, Map.of("portage-config", tree), List.of("ip", "netns", "exec", master),
                SUBNET + "1", 8730, "--bwlimit=500");
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        config.rsyncCommand = List.of("ip", "netns", "exec", slave, "rsync");
        config.maxFileSize = "64M";
        config.deadline = Duration.ofSeconds(5);
        config.ioTimeout = Duration.ofSeconds(600);
        ConfigPull pull = new ConfigPull(config, new ConfigPull.Source(SUBNET + "1", 8730, "portage-config"),
                work.resolve("state"), RUNNER, Clock.systemUTC());
        PullResult first = awaitFirstPull(pull);
        assertEquals(PullResult.Outcome.APPLIED, first.outcome(), first.message());
        Map<String, String> before = Snapshot.of(config.portageDir);

        Files.writeString(tree.resolve("package.use/01master"), "app-office/libreoffice -gtk -qt\n");
        byte[] chunk = new byte[1 << 20];
        new Random(3).nextBytes(chunk);
        try (OutputStream out = Files.newOutputStream(tree.resolve("package.use/01big"))) {
            for (int i = 0; i < 24; i++) {
                out.write(chunk);
            }
        }
        CompletableFuture<PullResult> running = CompletableFuture.supplyAsync(() -> {
            try {
                return pull.pull();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
        awaitPartial(config.stagingDir.resolve("tree/package.use"));
        assertEquals(0, ns(master, "ip", "link", "set", "vm" + pidTag(), "down"));

        PullResult cut = running.get(60, TimeUnit.SECONDS);

        assertEquals(PullResult.Outcome.TIMED_OUT, cut.outcome(), cut.message());
        assertEquals(before, Snapshot.of(config.portageDir));

        assertEquals(0, ns(master, "ip", "link", "set", "vm" + pidTag(), "up"));
        Files.delete(tree.resolve("package.use/01big"));
        PullResult recovered = awaitFirstPull(pull);
        assertEquals(PullResult.Outcome.APPLIED, recovered.outcome(), recovered.message());
        assertEquals("app-office/libreoffice -gtk -qt\n",
                Files.readString(config.portageDir.resolve("package.use/01master")));
    }

    /** The daemon (and a re-upped link) take a moment to answer; retry connect failures briefly. */
    private static PullResult awaitFirstPull(ConfigPull pull) throws Exception {
        PullResult r = null;
        for (int i = 0; i < 40; i++) {
            r = pull.pull();
            if (r.outcome() != PullResult.Outcome.FAILED) {
                return r;
            }
            Thread.sleep(250);
        }
        return r;
    }

    private static void awaitPartial(Path dir) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < until) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.anyMatch(p -> p.getFileName().toString().startsWith(".01big."))) {
                        Thread.sleep(500);
                        return;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("rsync never started the big file");
    }

    private static String pidTag() {
        return Long.toString(ProcessHandle.current().pid());
    }

    private static int ns(String name, String... argv) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(argv));
        return sh(full.toArray(String[]::new));
    }

    private static int sh(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        return p.waitFor();
    }
}
