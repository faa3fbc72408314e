package dev.binhost.agent.process;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.posix.Posix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What happens to the runner's children when the agent itself dies (SIGKILL, OOM killer) or a spawning thread ends. */
public class AgentDeathTest {
    private static final Posix POSIX = new JnrPosix();

    @TempDir
    Path tmp;

    /** Everything a test started, killed by pid afterwards whatever the outcome. */
    private final List<Long> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (long pid : started) {
            POSIX.kill((int) pid, Posix.SIGKILL);
        }
    }

    @Test
    void agentSigkilled_itsChildrenAndRsyncsForksDie_theSurvivesAgentCommandLivesOn() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        Path scratch = tmp.resolve("scratch");
        Path source = tmp.resolve("source.bin");
        Files.write(source, new byte[2_000_000]);
        Process agent = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "-cp", System.getProperty("java.class.path"), RunnerChildMain.class.getName(),
                work.toString(), scratch.toString(), source.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("agent.out").toFile()).start();
        started.add(agent.pid());
        Map<String, Long> pids = new HashMap<>();
        List<Long> tree;
        try {
            awaitFile(work.resolve("pids"), agent);
            for (String line : Files.readAllLines(work.resolve("pids"))) {
                String[] f = line.split(" ");
                pids.put(f[0], Long.parseLong(f[1]));
            }
            started.addAll(pids.values());
            long rsync = pids.get("rsync");
            // local rsync forks its receiver, which forks the generator
            awaitTrue(() -> ProcessHandle.of(rsync).map(h -> h.descendants().count() >= 2).orElse(false),
                    "rsync forked its receiver and generator; " + Files.readString(tmp.resolve("agent.out")));
            tree = new ArrayList<>(agent.descendants().map(ProcessHandle::pid).toList());
            started.addAll(tree);
            assertTrue(tree.containsAll(pids.values()), "all commands are the agent's: " + tree + " " + pids);
            assertTrue(alive(pids.get("thread")), "a child of a thread that ended lives while the agent lives");
            try (Stream<Path> s = Files.list(scratch)) {
                assertFalse(s.toList().isEmpty(), "tail-only commands write to the runner's scratch dir");
            }
        } finally {
            agent.destroyForcibly(); // SIGKILL: no shutdown hook runs
            agent.waitFor();
        }
        long survivor = pids.get("survives");
        for (long pid : tree) {
            if (pid != survivor) {
                awaitGone(pid);
            }
        }
        assertTrue(alive(survivor), "emerge's update run outlives the agent by design");

        new ProcessRunner(POSIX, Duration.ofSeconds(1), 4096, scratch);
        try (Stream<Path> s = Files.list(scratch)) {
            assertEquals(List.of(), s.toList(), "the next start clears what the dead agent's commands left");
        }
    }

    @Test
    void start_fromAThreadThatThenEnds_theChildLivesOn() throws Exception {
        // PR_SET_PDEATHSIG fires when the forking *thread* exits: the runner must not fork from its callers' threads
        ProcessRunner runner = new ProcessRunner(POSIX, Duration.ofMillis(500), 4096, tmp.resolve("scratch"));
        ProcessRunner.Running[] running = new ProcessRunner.Running[1];
        String[] tid = new String[1];
        Thread t = new Thread(() -> {
            try {
                tid[0] = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
                running[0] = runner.start(Command.of("sleep", "sleep", "300").deadline(Duration.ofMinutes(10)).build());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, "short-lived");
        t.start();
        t.join();
        started.add(running[0].pid());
        Path task = Path.of("/proc/self/task", tid[0]);
        awaitTrue(() -> !Files.exists(task), "thread " + tid[0] + " gone from the kernel");
        // the kernel sends the death signal as the thread goes; give a killed child time to be reaped
        Optional<ProcessHandle> handle = ProcessHandle.of(running[0].pid());
        assertTrue(handle.isPresent(), "child killed when its spawning thread ended");
        ProcessHandle child = handle.get();
        assertThrows(TimeoutException.class, () -> child.onExit().get(1, TimeUnit.SECONDS),
                "child killed when its spawning thread ended");
        running[0].cancel();
        running[0].await();
    }

    @Test
    void newRunner_removesScratchOutputOfDeadRunners_keepsThatOfLiveOnes() throws Exception {
        Path scratch = Files.createDirectories(tmp.resolve("scratch"));
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path leaked = Files.writeString(scratch.resolve(gone.pid() + "-rsync-7.out"), "partial output");
        Path live = Files.writeString(scratch.resolve(ProcessHandle.current().pid() + "-probe-3.out"), "running");
        Path foreign = Files.writeString(scratch.resolve("README"), "not the runner's");

        new ProcessRunner(POSIX, Duration.ofSeconds(1), 4096, scratch);

        assertFalse(Files.exists(leaked), "output of a runner whose JVM is gone");
        assertTrue(Files.exists(live), "another runner in a live JVM may still be using it");
        assertTrue(Files.exists(foreign), "only the runner's own names");
    }

    @Test
    void tailOnlyCommand_writesIntoTheScratchDir_andRemovesItsFile() throws Exception {
        Path scratch = tmp.resolve("scratch");
        ProcessRunner runner = new ProcessRunner(POSIX, Duration.ofMillis(500), 4096, scratch);
        Path[] seen = new Path[1];
        CommandResult r = runner.run(Command.of("ls", "sh", "-c", "ls " + scratch).onLine(l -> seen[0] = scratch.resolve(l))
                .deadline(Duration.ofSeconds(10)).build());
        assertEquals(0, r.exitCode(), r.outputTail());
        assertTrue(seen[0].getFileName().toString().startsWith(ProcessHandle.current().pid() + "-ls-"), r.outputTail());
        assertFalse(Files.exists(seen[0]));
    }

    /** Alive and not a zombie (this machine's pid 1 may never reap orphans). */
    public static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    private static void awaitGone(long pid) throws Exception {
        awaitTrue(() -> !alive(pid), "process " + pid + " (" + cmdline(pid) + ") ended with the agent");
    }

    private static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ').strip();
        } catch (IOException e) {
            return "gone";
        }
    }

    private static void awaitFile(Path file, Process agent) throws Exception {
        awaitTrue(() -> Files.exists(file) || !agent.isAlive(), "child agent wrote " + file);
        assertTrue(Files.exists(file), "child agent died early");
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(Condition c, String what) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!c.holds()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(20);
        }
    }
}
