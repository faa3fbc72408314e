package dev.binhost.agent.sync;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.testing.RsyncDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's one-pass pull gives the same tree as the seed's three rsync calls, on hundreds of random master
 * trees and the named corner cases, through a real rsync daemon on loopback (one daemon, one module per tree).
 */
class SeedEquivalenceTest {
    static final int TREES = 300;
    static final ProcessRunner RUNNER = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 65536);

    @TempDir
    static Path work;
    static RsyncDaemon daemon;
    static final Map<String, Path> MODULES = new LinkedHashMap<>();

    @BeforeAll
    static void serveTrees() throws Exception {
        for (int i = 0; i < TREES; i++) {
            Path root = work.resolve("masters/t" + i);
            MasterTrees.generate(root, 1000L + i);
            MODULES.put("t" + i, root);
        }
        corner("no-env", root -> {
            Files.createDirectories(root.resolve("package.use"));
            Files.writeString(root.resolve("package.use/01master"), "a/b x\n");
        });
        corner("make-conf-file", root -> {
            Files.writeString(root.resolve("make.conf"), "USE=x\n");
            Files.createDirectories(root.resolve("package.use"));
            Files.writeString(root.resolve("package.use/01master"), "a/b x\n");
            Files.createDirectories(root.resolve("env"));
            Files.writeString(root.resolve("env/nostrip"), "FEATURES=nostrip\n");
        });
        corner("nested-both-ways", root -> {
            Files.createDirectories(root.resolve("package.use/make.conf"));
            Files.writeString(root.resolve("package.use/make.conf/01inner"), "x\n");
            Files.createDirectories(root.resolve("make.conf/package.use"));
            Files.writeString(root.resolve("make.conf/package.use/01inner"), "y\n");
            Files.createDirectories(root.resolve("package.env/01deep/make.conf"));
            Files.writeString(root.resolve("package.env/01deep/make.conf/01x"), "z\n");
            Files.createDirectories(root.resolve("01top/make.conf"));
            Files.writeString(root.resolve("01top/make.conf/01y"), "w\n");
            Files.createDirectories(root.resolve("01top/package.mask"));
            Files.writeString(root.resolve("01top/package.mask/01z"), "v\n");
            Files.writeString(root.resolve("make.conf/01master"), "USE=a\n");
        });
        corner("empty-dirs-and-backups", root -> {
            Files.createDirectories(root.resolve("package.use"));
            Files.createDirectories(root.resolve("package.license/01empty"));
            Files.createDirectories(root.resolve("env/empty"));
            Files.writeString(root.resolve("package.use/01master~"), "old\n");
            Files.writeString(root.resolve("env/x~"), "old\n");
            Files.writeString(root.resolve("make.conf~"), "old\n");
        });
        daemon = RsyncDaemon.start(work, MODULES);
    }

    interface Builder {
        void build(Path root) throws IOException;
    }

    static void corner(String name, Builder builder) throws IOException {
        Path root = work.resolve("masters/" + name);
        Files.createDirectories(root);
        builder.build(root);
        MODULES.put(name, root);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void pull_onEveryGeneratedAndCornerCaseTree_givesTheSeedsTree() throws Exception {
        // rsync spends ~0.1 s per call mostly waiting, so trees run side by side to keep the test short.
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<Optional<String>>> cases = new ArrayList<>();
        AtomicInteger nonTrivial = new AtomicInteger();
        for (String module : MODULES.keySet()) {
            cases.add(pool.submit(() -> compare(module, nonTrivial)));
        }
        List<String> differences = new ArrayList<>();
        try {
            for (Future<Optional<String>> c : cases) {
                c.get().ifPresent(differences::add);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(List.of(), differences, "trees where the one-pass pull differs from the seed's calls");
        // The generator must produce trees the rules actually pick from, or equality proves little.
        assertTrue(nonTrivial.get() > TREES / 2, "only " + nonTrivial + " trees gave the slave more than 3 entries");
    }

    /** Pulls one module both ways into slaves that already hold files of their own; a difference, if any. */
    static Optional<String> compare(String module, AtomicInteger nonTrivial) throws Exception {
        Path case_ = work.resolve("cases/" + module);
        Path seedDest = case_.resolve("seed/etc/portage");
        TestSyncConfig config = new TestSyncConfig(case_.resolve("agent"));
        slaveOwnFiles(seedDest);
        slaveOwnFiles(config.portageDir);
        int before = Snapshot.of(seedDest).size();

        seedPull(module, seedDest);
        PullResult result = pull(config, module);
        if (!result.succeeded()) {
            return Optional.of(module + ": agent pull failed: " + result.message());
        }
        Map<String, String> seed = Snapshot.of(seedDest);
        Map<String, String> agent = Snapshot.of(config.portageDir);
        if (seed.size() > before + 3) {
            nonTrivial.incrementAndGet();
        }
        ConfigPull.deleteTree(case_);
        return seed.equals(agent) ? Optional.empty()
                : Optional.of(module + ":\n    seed  " + seed + "\n    agent " + agent);
    }

    @Test
    void pull_whenMasterEnvIsASymlink_doesNotFollowIt() throws Exception {
        Path master = work.resolve("symlink-master");
        Files.createDirectories(master.resolve("package.use"));
        Files.writeString(master.resolve("package.use/01master"), "a/b x\n");
        Path elsewhere = work.resolve("symlink-target");
        Files.createDirectories(elsewhere);
        Files.writeString(elsewhere.resolve("secret"), "not config\n");
        Files.createSymbolicLink(master.resolve("env"), elsewhere);
        Files.createSymbolicLink(master.resolve("package.use/01link"), elsewhere.resolve("secret"));
        try (RsyncDaemon own = RsyncDaemon.start(work, Map.of("sym", master))) {
            TestSyncConfig config = new TestSyncConfig(work.resolve("symlink-agent"));
            PullResult result = new ConfigPull(config, new ConfigPull.Source("127.0.0.1", own.port, "sym"),
                    config.backupDir.getParent(), RUNNER, Clock.systemUTC()).pull();
            assertTrue(result.succeeded(), result.message());
            assertFalse(Files.exists(config.portageDir.resolve("env")), "env symlink must not be followed");
            assertFalse(Files.exists(config.portageDir.resolve("package.use/01link")), "symlink must be skipped");
            assertTrue(Files.isRegularFile(config.portageDir.resolve("package.use/01master")));
        }
    }

    /** Files a slave has of its own: none of them may be touched by either way of pulling. */
    static void slaveOwnFiles(Path portage) throws IOException {
        Files.createDirectories(portage.resolve("package.use"));
        Files.writeString(portage.resolve("package.use/02slave"), "app/x -y\n");
        Files.writeString(portage.resolve("package.use/02slave~"), "app/x y\n");
        Files.writeString(portage.resolve("local.conf"), "mine\n");
    }

    /** The seed's syncportage.sh, call for call (the third fails when the master has no env/: ignored). */
    static void seedPull(String module, Path dest) throws Exception {
        String src = "127.0.0.1::" + module;
        String port = "--port=" + daemon.port;
        run("rsync", port, "-vr", "--exclude", "*~", "--include", "package.*/", "--include=01*", "--exclude=*",
                src, dest.toString());
        run("rsync", port, "-vr", "--exclude", "*~", "--include", "make.conf/", "--include=01*", "--exclude=*",
                src, dest.toString());
        run("rsync", port, "-vr", "--exclude", "*~", src + "/env/", dest.resolve("env").toString());
    }

    static void run(String... argv) throws Exception {
        RUNNER.run(Command.of("seed-rsync", argv).deadline(Duration.ofSeconds(30)).build());
    }

    /** Each case is its own agent: its own state dir (the apply journal is one per agent). */
    static PullResult pull(TestSyncConfig config, String module) throws InterruptedException {
        return new ConfigPull(config, new ConfigPull.Source("127.0.0.1", daemon.port, module),
                config.backupDir.getParent(), RUNNER, Clock.systemUTC()).pull();
    }
}
