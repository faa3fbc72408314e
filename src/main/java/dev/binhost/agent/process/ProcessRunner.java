package dev.binhost.agent.process;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.config.Durations;
import dev.binhost.agent.posix.Posix;
import dev.binhost.agent.state.StateDir;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way the agent starts programs (rsync, mount, emerge, probes): argv, environment, a hard deadline.
 *
 * <p>Each child starts in a session of its own ({@code setsid}), so on deadline the runner can signal the
 * whole process group: SIGTERM, the configured grace, then SIGKILL to the group and to every descendant it
 * saw. The child writes its output straight into a file (the command's log, or a scratch file for tail-only
 * commands), never into a pipe the agent must drain: a child that outlives the agent (emerge across an
 * agent restart) then never dies of SIGPIPE, and a daemonised grandchild (a FUSE helper started by mount)
 * cannot keep the runner waiting for end of file.
 *
 * <p>A child dies with the agent, even when the agent is SIGKILLed ({@code setpriv --pdeathsig KILL}), unless
 * its command {@link Command.Builder#survivesAgent() survives the agent} (emerge's update run). Scratch output
 * lives in a directory of the runner's, cleared of dead agents' files at start.
 */
@ApplicationScoped
public class ProcessRunner {
    private static final String SETSID = find("setsid", "a command's grandchildren can only be ended one by one on deadline");
    private static final String SETPRIV = find("setpriv", "commands started by the agent outlive it when it is killed");
    /**
     * The one thread that forks children. The kernel sends PR_SET_PDEATHSIG when the forking <em>thread</em>
     * ends, not the process: forking from a pool thread that is later retired would kill its children.
     */
    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(DaemonThreads.named("process-spawner"));
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final Pattern SCRATCH_NAME = Pattern.compile("(\\d{1,10})-.*\\.out");
    /** Exit code reported for a child that outlived SIGKILL (uninterruptible sleep). */
    public static final int UNKILLABLE = -1;
    private static final Duration UNKILLABLE_WAIT = Duration.ofSeconds(5);

    private final Posix posix;
    private final Duration killGrace;
    private final int tailBytes;
    private final Path scratchDir;

    @jakarta.inject.Inject
    public ProcessRunner(Posix posix, ProcessRunnerConfig config, AgentConfig agent) {
        this(posix, config.killGrace(), config.tailBytes(), new StateDir(agent.stateDir()).runnerScratch());
    }

    public ProcessRunner(Posix posix, Duration killGrace, int tailBytes) {
        this(posix, killGrace, tailBytes, Path.of(System.getProperty("java.io.tmpdir"), "binhost-runner-scratch"));
    }

    /**
     * {@code scratchDir} holds the output of tail-only commands, named {@code <agent pid>-<label>-<n>.out}; files
     * of a runner whose JVM is gone (killed mid-command) are removed here, those of a live one are left alone.
     */
    public ProcessRunner(Posix posix, Duration killGrace, int tailBytes, Path scratchDir) {
        this.posix = posix;
        this.killGrace = killGrace;
        this.tailBytes = tailBytes;
        this.scratchDir = scratchDir;
        clearScratch();
    }

    private void clearScratch() {
        if (!Files.isDirectory(scratchDir)) {
            return;
        }
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(scratchDir)) {
            for (Path f : files) {
                Matcher m = SCRATCH_NAME.matcher(f.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty() && Files.deleteIfExists(f)) {
                    removed++;
                }
            }
        } catch (IOException | RuntimeException e) {
            Log.warnf("Cannot clear the runner's scratch dir %s: %s", scratchDir, e.toString());
        }
        if (removed > 0) {
            Log.infof("Removed %d output file(s) in %s left by commands of an agent that died", removed, scratchDir);
        }
    }

    /** Runs the command to its end or its deadline; the calling thread waits at most deadline + grace. */
    public CommandResult run(Command command) throws IOException, InterruptedException {
        return start(command).await();
    }

    /** Starts the command; {@link Running#await()} collects its result. */
    public Running start(Command command) throws IOException {
        String program = resolve(command.argv().get(0), command.environment());
        Path output;
        boolean scratch;
        if (command.log().isPresent()) {
            output = command.log().get();
            Path parent = output.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            scratch = false;
        } else {
            Files.createDirectories(scratchDir);
            output = scratchDir.resolve(ProcessHandle.current().pid() + "-"
                    + command.label().replaceAll("[^A-Za-z0-9_-]", "_") + "-" + SEQUENCE.incrementAndGet() + ".out");
            Files.deleteIfExists(output);
            scratch = true;
        }
        List<String> argv = new ArrayList<>();
        if (SETSID != null) {
            argv.add(SETSID);
        }
        // setsid does not fork (a child of the JVM is no group leader), so the death signal binds to the JVM;
        // a forked grandchild loses it, rsync's forks end on the broken pipe to their parent instead.
        if (SETPRIV != null && !command.survivesAgent()) {
            argv.addAll(List.of(SETPRIV, "--pdeathsig", "KILL", "--"));
        }
        argv.add(program);
        argv.addAll(command.argv().subList(1, command.argv().size()));
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        if (command.stdin().isEmpty() && !command.interactiveStdin()) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        command.workingDirectory().ifPresent(dir -> builder.directory(dir.toFile()));
        builder.environment().putAll(command.environment());
        long startOffset = Files.exists(output) ? Files.size(output) : 0;
        long startNanos = System.nanoTime();
        Process process;
        try {
            process = spawn(builder);
        } catch (IOException e) {
            if (scratch) {
                Files.deleteIfExists(output);
            }
            throw new IOException("cannot start " + command.argv().get(0) + ": " + e.getMessage(), e);
        }
        Running running = new Running(command, process, output, scratch, startOffset, startNanos);
        command.stdin().ifPresent(running::feedStdin);
        command.lineListener().ifPresent(running::follow);
        return running;
    }

    /** Starts the process on the spawner thread; waits for it even when interrupted, so no child goes unowned. */
    private static Process spawn(ProcessBuilder builder) throws IOException {
        Future<Process> started = SPAWNER.submit(builder::start);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return started.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IOException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A started command. */
    public final class Running {
        private final Command command;
        private final Process process;
        private final Path output;
        private final boolean scratch;
        private final long startOffset;
        private final long startNanos;
        private final Set<ProcessHandle> seen = new LinkedHashSet<>();
        private volatile boolean cancelled;
        private volatile long deadlineNanos;
        private volatile Duration deadline;
        private Thread follower;

        private Running(Command command, Process process, Path output, boolean scratch, long startOffset,
                long startNanos) {
            this.command = command;
            this.process = process;
            this.output = output;
            this.scratch = scratch;
            this.startOffset = startOffset;
            this.startNanos = startNanos;
            this.deadline = command.deadline();
            this.deadlineNanos = startNanos + deadline.toNanos();
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** Ends the command as a deadline would (SIGTERM, grace, SIGKILL); {@link #await()} does the ending. */
        public void cancel() {
            cancelled = true;
        }

        /**
         * Moves the deadline to {@code fromNow} after this moment, for a command whose work starts only after
         * a question it answered (emerge {@code --ask}: the plan has a deadline of its own, the run another).
         */
        public void deadlineFromNow(Duration fromNow) {
            deadline = fromNow;
            deadlineNanos = System.nanoTime() + fromNow.toNanos();
        }

        /**
         * The child's stdin, for a command built with {@link Command.Builder#interactiveStdin()}; the caller
         * writes and closes it.
         */
        public OutputStream stdin() {
            if (!command.interactiveStdin()) {
                throw new IllegalStateException(command.label() + " was not started with an interactive stdin");
            }
            return process.getOutputStream();
        }

        /** Waits for the end, the deadline or a cancel, whichever comes first, then returns what happened. */
        public CommandResult await() throws InterruptedException {
            boolean exited = false;
            while (!exited && !cancelled) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                exited = process.waitFor(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS);
            }
            boolean timedOut = false;
            if (!exited) {
                timedOut = !cancelled;
                Log.warnf("%s %s; ending it (pid %d)", command.label(),
                        cancelled ? "was cancelled" : "passed its deadline of " + Durations.human(deadline), process.pid());
                terminateTree();
            }
            // After SIGKILL a child stuck in uninterruptible sleep (a dead NFS server) can still linger: wait a
            // bounded time and report it rather than hang the calling thread with it.
            int exitCode;
            Duration linger = command.disposable() ? command.deadline() : UNKILLABLE_WAIT;
            if (process.waitFor(exited ? Long.MAX_VALUE : linger.toNanos(), TimeUnit.NANOSECONDS)) {
                exitCode = process.exitValue();
            } else {
                Log.errorf("%s (pid %d) survived SIGKILL, likely stuck in the kernel on a dead mount; giving up on it",
                        command.label(), process.pid());
                exitCode = UNKILLABLE;
            }
            Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
            stopFollower();
            String tail = readTail();
            if (scratch) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException e) {
                    Log.debugf("cannot remove scratch output %s: %s", output, e.getMessage());
                }
            }
            return new CommandResult(command.label(), exitCode, took, timedOut, tail,
                    scratch ? java.util.Optional.empty() : java.util.Optional.of(output));
        }

        private void terminateTree() {
            remember();
            if (command.disposable()) {
                signalTree(Posix.SIGKILL);
                return;
            }
            signalTree(Posix.SIGTERM);
            try {
                if (!process.waitFor(killGrace.toNanos(), TimeUnit.NANOSECONDS)) {
                    Log.warnf("%s ignored SIGTERM for %s; killing its process tree", command.label(), Durations.human(killGrace));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            remember();
            signalTree(Posix.SIGKILL);
        }

        private void remember() {
            process.descendants().forEach(seen::add);
        }

        private void signalTree(int signal) {
            if (SETSID != null) {
                posix.kill((int) -process.pid(), signal);
            }
            for (ProcessHandle handle : seen) {
                if (handle.isAlive()) {
                    posix.kill((int) handle.pid(), signal);
                }
            }
            if (process.isAlive()) {
                posix.kill((int) process.pid(), signal);
            }
        }

        private void feedStdin(byte[] bytes) {
            Thread writer = new Thread(() -> {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(bytes);
                } catch (IOException e) {
                    Log.debugf("%s closed its stdin early: %s", command.label(), e.getMessage());
                }
            }, "stdin-" + command.label());
            writer.setDaemon(true);
            writer.start();
        }

        private void follow(Consumer<String> listener) {
            follower = new Thread(new Follower(output, startOffset, listener, process),
                    "follow-" + command.label() + "-" + SEQUENCE.incrementAndGet());
            follower.setDaemon(true);
            follower.start();
        }

        private void stopFollower() throws InterruptedException {
            if (follower != null) {
                follower.join(2000);
                follower.interrupt();
            }
        }

        private String readTail() {
            try (RandomAccessFile file = new RandomAccessFile(output.toFile(), "r")) {
                long length = file.length();
                long from = Math.max(startOffset, length - tailBytes);
                byte[] bytes = new byte[(int) (length - from)];
                file.seek(from);
                file.readFully(bytes);
                String text = new String(bytes, StandardCharsets.UTF_8);
                if (from > startOffset) {
                    int newline = text.indexOf('\n');
                    text = newline >= 0 ? text.substring(newline + 1) : text;
                }
                return text;
            } catch (IOException e) {
                return "(output unreadable: " + e.getMessage() + ")";
            }
        }
    }

    /** Reads lines as the child appends them to its output file, until the child has ended. */
    private static final class Follower implements Runnable {
        private final Path file;
        private final Consumer<String> listener;
        private final Process process;
        private long offset;

        Follower(Path file, long offset, Consumer<String> listener, Process process) {
            this.file = file;
            this.offset = offset;
            this.listener = listener;
            this.process = process;
        }

        @Override
        public void run() {
            StringBuilder partial = new StringBuilder();
            byte[] buffer = new byte[64 * 1024];
            try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
                while (true) {
                    boolean ended = !process.isAlive();
                    in.seek(offset);
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        offset += n;
                        partial.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                        int nl;
                        while ((nl = indexOfLineEnd(partial)) >= 0) {
                            deliver(partial.substring(0, nl));
                            partial.delete(0, nl + lineEndLength(partial, nl));
                        }
                    }
                    if (ended) {
                        String rest = partial.toString();
                        if (rest.endsWith("\r")) {
                            rest = rest.substring(0, rest.length() - 1);
                        }
                        if (!rest.isEmpty()) {
                            deliver(rest);
                        }
                        return;
                    }
                    Thread.sleep(100);
                }
            } catch (IOException e) {
                Log.debugf("stopped following %s: %s", file, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /**
         * The first line end: {@code \n}, {@code \r\n} (a pseudo-terminal's) or a lone {@code \r} (a status line
         * rewritten in place); a {@code \r} last in the buffer waits for the next read, which may bring its
         * {@code \n}.
         */
        private static int indexOfLineEnd(CharSequence s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\n' || (c == '\r' && i + 1 < s.length())) {
                    return i;
                }
            }
            return -1;
        }

        private static int lineEndLength(CharSequence s, int at) {
            return s.charAt(at) == '\r' && at + 1 < s.length() && s.charAt(at + 1) == '\n' ? 2 : 1;
        }

        private void deliver(String line) {
            try {
                listener.accept(line);
            } catch (RuntimeException e) {
                Log.warnf(e, "line listener failed on %s", file);
            }
        }
    }

    /**
     * The program's path, checked before start: behind setsid a missing program would only show as exit 127,
     * so the runner names it here instead.
     */
    public static String resolve(String program, java.util.Map<String, String> environment) throws IOException {
        if (program.contains("/")) {
            File file = new File(program);
            if (!file.isFile() || !file.canExecute()) {
                throw new IOException("cannot start " + program + ": " + (file.exists() ? "not executable" : "no such file"));
            }
            return program;
        }
        String path = environment.getOrDefault("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        for (String dir : path.split(":")) {
            File candidate = new File(dir.isEmpty() ? "." : dir, program);
            if (candidate.isFile() && candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        throw new IOException("cannot start " + program + ": not found in PATH (" + path + ")");
    }

    private static String find(String tool, String without) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            File candidate = new File(dir, tool);
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        Log.warnf("%s (util-linux) not found: %s", tool, without);
        return null;
    }
}
