package dev.binhost.agent.process;

import dev.binhost.agent.posix.JnrPosix;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Child JVM standing in for the agent: starts commands through the runner, writes their pids, then waits to be
 * SIGKILLed. Args: work dir, scratch dir, source file for rsync.
 */
public final class RunnerChildMain {
    private RunnerChildMain() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        ProcessRunner runner = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1), 4096, Path.of(args[1]));
        List<String> pids = new ArrayList<>();
        // tail-only, so it runs with a scratch output file that the kill leaks
        pids.add("dies " + runner.start(Command.of("sleep", "sleep", "300").deadline(Duration.ofMinutes(10)).build()).pid());
        pids.add("survives " + runner.start(Command.of("emerge", "sleep", "301").survivesAgent()
                .log(work.resolve("survivor.log")).deadline(Duration.ofMinutes(10)).build()).pid());
        // a slow local copy: rsync forks a receiver and a generator that must end with it
        pids.add("rsync " + runner.start(Command.of("rsync", "rsync", "--bwlimit=10", args[2], work.resolve("copy").toString())
                .deadline(Duration.ofMinutes(10)).build()).pid());
        // started from a thread that ends at once: the child must live on while this JVM does
        long[] fromThread = new long[1];
        Thread t = new Thread(() -> {
            try {
                fromThread[0] = runner.start(Command.of("sleep", "sleep", "302").deadline(Duration.ofMinutes(10)).build()).pid();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        t.join();
        pids.add("thread " + fromThread[0]);
        Files.write(work.resolve("pids.tmp"), pids);
        Files.move(work.resolve("pids.tmp"), work.resolve("pids"));
        Thread.sleep(Long.MAX_VALUE);
    }
}
