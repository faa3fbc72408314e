package dev.binhost.agent.sync;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.testing.RsyncDaemon;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (run by bench/sync-vs-seed.sh): the agent's one-pass pull against the seed's three rsync calls on a
 * ~2000-file master tree served by a real rsync daemon on loopback; first pull into an empty slave and
 * no-change re-pull; prints the median wall time of each and the agent/seed ratio, once per directory given
 * (the filesystem matters: see {@link #createCostMicros}).
 */
public final class SyncBench {
    private SyncBench() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        List<Path> bases = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            bases.add(Path.of(args[i]));
        }
        if (bases.isEmpty()) {
            bases.add(Path.of(System.getProperty("java.io.tmpdir")));
        }
        ProcessRunner runner = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1), 65536);
        for (Path base : bases) {
            run(runner, base, runs);
        }
    }

    static void run(ProcessRunner runner, Path base, int runs) throws Exception {
        Path work = Files.createTempDirectory(base, "binhost-sync-bench");
        try {
            Path master = work.resolve("master");
            int files = masterTree(master);
            try (RsyncDaemon daemon = RsyncDaemon.start(work, Map.of("portage-config", master))) {
                List<Double> seedFirst = new ArrayList<>();
                List<Double> seedAgain = new ArrayList<>();
                List<Double> agentFirst = new ArrayList<>();
                List<Double> agentAgain = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    Path seedDest = work.resolve("seed" + i + "/etc/portage");
                    Files.createDirectories(seedDest);
                    TestSyncConfig config = new TestSyncConfig(work.resolve("agent" + i));
                    ConfigPull pull = new ConfigPull(config, new ConfigPull.Source("127.0.0.1", daemon.port,
                            "portage-config"), work.resolve("agent" + i + "/state"), runner, Clock.systemUTC());
                    // Alternate who goes first, and write back all dirty pages before each step, so neither side
                    // pays for the other's writes (the agent's flush would otherwise also flush the seed's).
                    boolean seedFirstThisRound = i % 2 == 0;
                    for (int side = 0; side < 2; side++) {
                        settle(runner);
                        if ((side == 0) == seedFirstThisRound) {
                            seedFirst.add(time(() -> seed(runner, daemon.port, seedDest)));
                            settle(runner);
                            seedAgain.add(time(() -> seed(runner, daemon.port, seedDest)));
                        } else {
                            agentFirst.add(time(() -> check(pull.pull(), PullResult.Outcome.APPLIED)));
                            settle(runner);
                            agentAgain.add(time(() -> check(pull.pull(), PullResult.Outcome.UNCHANGED)));
                        }
                    }
                }
                System.out.printf("%s (%s): creating one empty file costs %.0f µs (median of 5 × 1000)%n", base,
                        Files.getFileStore(work).type(), createCostMicros(work));
                System.out.printf("  master tree: %d files (%d taken by the rules), %d runs, medians:%n", files,
                        Snapshot.of(work.resolve("agent0/etc/portage")).size(), runs);
                report("first pull", median(seedFirst), median(agentFirst));
                report("no-change re-pull", median(seedAgain), median(agentAgain));
            }
        } finally {
            ConfigPull.deleteTree(work);
        }
    }

    /**
     * What one new inode costs on the bench's filesystem. A first pull creates ~1000 files either way, so where
     * this is high (it is ~180 µs on this machine's ext4, ~2 µs on tmpfs) it puts a floor under both sides.
     */
    static double createCostMicros(Path dir) throws Exception {
        List<Double> rounds = new ArrayList<>();
        for (int r = 0; r < 5; r++) {
            Path d = Files.createDirectory(dir.resolve("create-cost-" + r));
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                Files.createFile(d.resolve("f" + i));
            }
            rounds.add((System.nanoTime() - t0) / 1e3 / 1000);
            ConfigPull.deleteTree(d);
        }
        return median(rounds);
    }

    interface Step {
        void run() throws Exception;
    }

    static double time(Step step) throws Exception {
        long t0 = System.nanoTime();
        step.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    static void report(String what, double seed, double agent) {
        System.out.printf("    %-18s seed (3 calls) %8.1f ms   agent (1 pass) %8.1f ms   ratio %.2f%n", what, seed,
                agent, agent / seed);
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static void check(PullResult r, PullResult.Outcome expected) {
        if (r.outcome() != expected) {
            throw new IllegalStateException("expected " + expected + ": " + r.outcome() + " " + r.message());
        }
    }

    /** Writes back every dirty page (sync(1)) outside the timed steps. */
    static void settle(ProcessRunner runner) throws Exception {
        runner.run(Command.of("sync", "sync").deadline(Duration.ofMinutes(1)).build());
    }

    static void seed(ProcessRunner runner, int port, Path dest) throws Exception {
        String src = "127.0.0.1::portage-config";
        for (List<String> argv : List.of(
                List.of("rsync", "--port=" + port, "-vr", "--exclude", "*~", "--include", "package.*/",
                        "--include=01*", "--exclude=*", src, dest.toString()),
                List.of("rsync", "--port=" + port, "-vr", "--exclude", "*~", "--include", "make.conf/",
                        "--include=01*", "--exclude=*", src, dest.toString()),
                List.of("rsync", "--port=" + port, "-vr", "--exclude", "*~", src + "/env/",
                        dest.resolve("env").toString()))) {
            var r = runner.run(Command.of("seed-rsync", argv).deadline(Duration.ofMinutes(1)).build());
            if (!r.succeeded()) {
                throw new IllegalStateException(r.summary() + ": " + r.lastLine());
            }
        }
    }

    /** ~2000 files: 20 package.* directories and make.conf/ with 01*, 02* and backup files, plus env/. */
    static int masterTree(Path root) throws Exception {
        int n = 0;
        List<String> dirs = new ArrayList<>(List.of("make.conf", "env", "repos.conf"));
        for (int i = 0; i < 20; i++) {
            dirs.add("package.d" + i);
        }
        for (String dir : dirs) {
            Files.createDirectories(root.resolve(dir));
            for (int i = 0; i < 87; i++) {
                String name = switch (i % 4) {
                    case 0, 1 -> "01master-" + i;
                    case 2 -> "02local-" + i;
                    default -> "01master-" + i + "~";
                };
                Files.writeString(root.resolve(dir).resolve(name), ("cat-" + i + "/pkg-" + dir + " flag\n").repeat(20));
                n++;
            }
        }
        return n;
    }
}
