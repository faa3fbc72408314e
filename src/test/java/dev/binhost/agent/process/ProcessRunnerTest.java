package dev.binhost.agent.process;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.posix.Posix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessRunnerTest {
    private static final int TAIL = 4096;
    private final ProcessRunner runner = new ProcessRunner(new JnrPosix(), Duration.ofMillis(500), TAIL);

    @TempDir
    Path tmp;

    private static Command.Builder sh(String script) {
        return Command.of("sh", "sh", "-c", script);
    }

    @Test
    void run_whenProgramExitsNonZero_reportsItsExitCodeAndOutput() throws Exception {
        CommandResult r = runner.run(sh("echo hello; echo oops >&2; exit 23").deadline(Duration.ofSeconds(10)).build());
        assertEquals(23, r.exitCode());
        assertFalse(r.timedOut());
        assertFalse(r.succeeded());
        assertTrue(r.outputTail().contains("hello\n"), r.outputTail());
        assertTrue(r.outputTail().contains("oops\n"), "stderr goes to the same output: " + r.outputTail());
        assertEquals("oops", r.lastLine());
        assertTrue(r.log().isEmpty(), "tail-only commands leave no log file");
    }

    @Test
    void run_whenEnvironmentAndWorkingDirectoryGiven_childSeesThem() throws Exception {
        CommandResult r = runner.run(sh("echo \"$GREETING\"; pwd").environment(Map.of("GREETING", "from the agent"))
                .workingDirectory(tmp).deadline(Duration.ofSeconds(10)).build());
        assertEquals(0, r.exitCode());
        assertEquals("from the agent\n" + tmp.toRealPath() + "\n", r.outputTail());
    }

    @Test
    void run_whenStdinGiven_childReadsIt() throws Exception {
        CommandResult r = runner.run(Command.of("cat", "cat").stdin("{\"outcome\":\"ok\"}".getBytes(StandardCharsets.UTF_8))
                .deadline(Duration.ofSeconds(10)).build());
        assertEquals("{\"outcome\":\"ok\"}", r.outputTail());
    }

    @Test
    void run_whenNoStdinGiven_childSeesEndOfFileInsteadOfWaiting() throws Exception {
        CommandResult r = runner.run(Command.of("cat", "cat").deadline(Duration.ofSeconds(10)).build());
        assertEquals(0, r.exitCode());
        assertFalse(r.timedOut());
    }

    @Test
    void run_whenProgramIsMissing_failsNamingIt() {
        IOException e = assertThrows(IOException.class,
                () -> runner.run(Command.of("x", "/nonexistent/emerge").deadline(Duration.ofSeconds(5)).build()));
        assertTrue(e.getMessage().contains("/nonexistent/emerge"), e.getMessage());
    }

    @Test
    void run_whenDeadlinePasses_sigtermEndsTheProgram() throws Exception {
        Path marker = tmp.resolve("got-term");
        CommandResult r = runner.run(sh("trap 'touch " + marker + "; exit 143' TERM; while :; do sleep 0.05; done")
                .deadline(Duration.ofMillis(500)).build());
        assertTrue(r.timedOut());
        assertTrue(Files.exists(marker), "the program was given SIGTERM first");
        assertFalse(r.succeeded());
    }

    @Test
    void run_whenProgramIgnoresSigterm_isKilledAfterTheGrace() throws Exception {
        Path pidFile = tmp.resolve("pid");
        CommandResult r = runner.run(sh("trap '' TERM; echo $$ > " + pidFile + "; while :; do sleep 0.05; done")
                .deadline(Duration.ofMillis(500)).build());
        assertTrue(r.timedOut());
        assertEquals(128 + 9, r.exitCode(), "ended by SIGKILL");
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    }

    /**
     * A child in uninterruptible sleep (a dead NFS server) outlives SIGKILL. Such a child cannot be made on
     * demand, so the signals are refused here instead: the child lives on exactly as a D-state one would, and
     * the runner must report it rather than wait for it (the mount manager relies on that).
     */
    /** A Posix whose kill() records the signal and delivers nothing, as to a child in uninterruptible sleep. */
    private static Posix refusingSignals(List<Integer> signals) {
        return new Posix() {
            public boolean kill(int pid, int signal) {
                signals.add(signal);
                return true;
            }

            public int geteuid() {
                return new JnrPosix().geteuid();
            }

            public FileLock tryLock(Path file) throws IOException {
                return new JnrPosix().tryLock(file);
            }
        };
    }

    @Test
    void run_whenChildSurvivesSigkill_returnsReportingItUnkillable() throws Exception {
        Posix refusing = refusingSignals(new ArrayList<>());
        Path pidFile = tmp.resolve("pid");
        CommandResult r = new ProcessRunner(refusing, Duration.ofMillis(100), TAIL)
                .run(sh("echo $$ > " + pidFile + "; exec sleep 60").deadline(Duration.ofMillis(300)).build());
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        try {
            assertTrue(r.timedOut(), r.summary());
            assertEquals(ProcessRunner.UNKILLABLE, r.exitCode());
            assertFalse(r.succeeded());
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "still there, not waited for");
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * A mount probe stuck in the kernel (a FUSE server that took the request and froze cannot be killed until it
     * answers) must not hold the mount manager for the SIGTERM grace plus the unkillable wait: a disposable command
     * gets SIGKILL at once and is waited for one more deadline, however long the runner's grace.
     */
    @Test
    void run_disposableCommandPastItsDeadline_getsSigkillAtOnce_andIsNotWaitedForLong() throws Exception {
        List<Integer> signals = new CopyOnWriteArrayList<>();
        Posix refusing = refusingSignals(signals);
        Path pidFile = tmp.resolve("pid");
        CommandResult r = new ProcessRunner(refusing, Duration.ofMinutes(10), TAIL)
                .run(sh("echo $$ > " + pidFile + "; exec sleep 60").deadline(Duration.ofMillis(300)).disposable().build());
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        try {
            assertTrue(r.timedOut(), r.summary());
            assertEquals(ProcessRunner.UNKILLABLE, r.exitCode(), "reported as surviving, not waited for");
            assertFalse(signals.isEmpty(), "the child was signalled");
            assertTrue(signals.stream().allMatch(sig -> sig == Posix.SIGKILL), "no SIGTERM grace first: " + signals);
            assertTrue(r.took().compareTo(Duration.ofSeconds(5)) < 0,
                    "waited about one more deadline, not the grace (10 min) or the 5 s unkillable wait: " + r.took());
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void disposable_cannotOutliveTheAgent() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sh("true").survivesAgent().disposable().build());
        assertTrue(e.getMessage().contains("disposable"), e.getMessage());
    }

    @Test
    void run_whenChildForksGrandchildren_deadlineEndsTheWholeTree() throws Exception {
        Path pids = tmp.resolve("pids");
        // One grandchild ignores SIGTERM, one escapes into a session of its own: both must still end.
        String script = "(trap '' TERM; while :; do sleep 0.05; done) & echo $! >> " + pids + "; "
                + "setsid sh -c 'while :; do sleep 0.05; done' & echo $! >> " + pids + "; "
                + "sleep 0.2; wait";
        CommandResult r = runner.run(sh(script).deadline(Duration.ofSeconds(1)).build());
        assertTrue(r.timedOut());
        List<Long> grandchildren = Files.readAllLines(pids).stream().map(String::strip).map(Long::parseLong).toList();
        assertEquals(2, grandchildren.size());
        for (long pid : grandchildren) {
            awaitGone(pid);
        }
    }

    @Test
    void run_whenProgramWrites100MB_logHoldsAllOfItAndMemoryOnlyTheTail() throws Exception {
        Path log = tmp.resolve("logs/big.log");
        CommandResult r = runner.run(sh("head -c 100000000 /dev/zero | tr '\\0' 'x' | fold -w 99; echo; echo last line")
                .log(log).deadline(Duration.ofMinutes(2)).build());
        assertEquals(0, r.exitCode());
        assertTrue(Files.size(log) >= 100_000_000L, "whole output in the log: " + Files.size(log));
        assertTrue(r.outputTail().length() <= TAIL, "tail bounded: " + r.outputTail().length());
        assertTrue(r.outputTail().endsWith("last line\n"));
        assertEquals(Path.of(log.toString()), r.log().orElseThrow());
    }

    @Test
    void run_whenLogAlreadyHasOutput_appendsAndTailsOnlyThisRun() throws Exception {
        Path log = tmp.resolve("run.log");
        Files.writeString(log, "earlier run\n");
        CommandResult r = runner.run(sh("echo this run").log(log).deadline(Duration.ofSeconds(10)).build());
        assertEquals("this run\n", r.outputTail());
        assertEquals("earlier run\nthis run\n", Files.readString(log));
    }

    @Test
    void start_withLineListener_deliversEveryLineInOrderWhileRunning() throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        CommandResult r = runner.run(sh("for i in 1 2 3 4 5; do echo \">>> Emerging ($i of 5)\"; sleep 0.05; done; printf tail")
                .onLine(lines::add).deadline(Duration.ofSeconds(10)).build());
        assertEquals(0, r.exitCode());
        assertEquals(List.of(">>> Emerging (1 of 5)", ">>> Emerging (2 of 5)", ">>> Emerging (3 of 5)",
                ">>> Emerging (4 of 5)", ">>> Emerging (5 of 5)", "tail"), lines);
    }

    @Test
    void start_withLineListener_crlfIsOneLineEnd_aLoneCrEndsAStatusLine() throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        // "\r" then, in a later write, "\n": still one line end
        CommandResult r = runner.run(sh("printf 'pty\\r'; sleep 0.3; printf '\\nspin -\\rspin done\\r\\nlast\\r'")
                .onLine(lines::add).deadline(Duration.ofSeconds(10)).build());
        assertEquals(0, r.exitCode());
        assertEquals(List.of("pty", "spin -", "spin done", "last"), lines);
    }

    @Test
    void interactiveStdin_writtenAfterStart_andDeadlineMovedFromNow() throws Exception {
        ProcessRunner.Running running = runner.start(sh("read answer; echo \"got $answer\"; sleep 1.5; echo done")
                .interactiveStdin().deadline(Duration.ofSeconds(1)).build());
        Thread.sleep(500);
        try (var in = running.stdin()) {
            in.write("Yes\n".getBytes());
        }
        running.deadlineFromNow(Duration.ofSeconds(10));
        CommandResult r = running.await();
        assertFalse(r.timedOut(), "ran past its first deadline of 1 s: " + r.summary());
        assertEquals("got Yes\ndone\n", r.outputTail());
    }

    @Test
    void cancel_endsARunningCommandWithoutWaitingForItsDeadline() throws Exception {
        ProcessRunner.Running running = runner.start(sh("sleep 60").deadline(Duration.ofMinutes(10)).build());
        running.cancel();
        CommandResult r = running.await();
        assertFalse(r.timedOut(), "cancelled, not timed out");
        assertFalse(running.isAlive());
        assertFalse(r.succeeded());
    }

    @Test
    void run_whenChildLeavesADaemonBehind_returnsAtChildExitAndLeavesTheDaemon() throws Exception {
        // mount starts FUSE helpers this way: the helper must survive and must not hold the runner.
        Path pidFile = tmp.resolve("daemon.pid");
        CommandResult r = runner.run(sh("sleep 30 > /dev/null 2>&1 & echo $! > " + pidFile + "; exit 0")
                .deadline(Duration.ofSeconds(10)).build());
        assertEquals(0, r.exitCode());
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        try {
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    private static void awaitGone(long pid) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                return;
            }
            Thread.sleep(20);
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        throw new AssertionError("process " + pid + " outlived the deadline kill");
    }
}
