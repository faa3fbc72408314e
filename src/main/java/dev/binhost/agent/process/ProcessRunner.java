package dev.binhost.agent.process;

import dev.binhost.agent.posix.Posix;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The one way the agent starts programs (rsync, mount, emerge, probes): argv, environment, a hard deadline.
 *
 * <p>Each child starts in a session of its own ({@code setsid}), so on deadline the runner can signal the
 * whole process group: SIGTERM, the configured grace, then SIGKILL to the group and to every descendant it
 * saw. The child writes its output straight into a file (the command's log, or a scratch file for tail-only
 * commands), never into a pipe the agent must drain: a child that outlives the agent (emerge across an
 * agent restart) then never dies of SIGPIPE, and a daemonised grandchild (a FUSE helper started by mount)
 * cannot keep the runner waiting for end of file.
 */
@ApplicationScoped
public class ProcessRunner {
    private static final String SETSID = findSetsid();
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private final Posix posix;
    private final Duration killGrace;
    private final int tailBytes;

    @jakarta.inject.Inject
    public ProcessRunner(Posix posix, ProcessRunnerConfig config) {
        this(posix, config.killGrace(), config.tailBytes());
    }

    public ProcessRunner(Posix posix, Duration killGrace, int tailBytes) {
        this.posix = posix;
        this.killGrace = killGrace;
        this.tailBytes = tailBytes;
    }

    /** Runs the command to its end or its deadline; the calling thread waits at most deadline + grace. */
    public CommandResult run(Command command) throws IOException, InterruptedException {
        return start(command).await();
    }

    /** Starts the command; {@link Running#await()} collects its result. */
    public Running start(Command command) throws IOException {
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
            output = Files.createTempFile("binhost-" + command.label().replaceAll("[^A-Za-z0-9_-]", "_") + "-", ".out");
            scratch = true;
        }
        List<String> argv = new ArrayList<>();
        if (SETSID != null) {
            argv.add(SETSID);
        }
        argv.addAll(command.argv());
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        if (command.stdin().isEmpty()) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        command.workingDirectory().ifPresent(dir -> builder.directory(dir.toFile()));
        builder.environment().putAll(command.environment());
        long startOffset = Files.size(output);
        long startNanos = System.nanoTime();
        Process process;
        try {
            process = builder.start();
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
        private Thread follower;

        private Running(Command command, Process process, Path output, boolean scratch, long startOffset,
                long startNanos) {
            this.command = command;
            this.process = process;
            this.output = output;
            this.scratch = scratch;
            this.startOffset = startOffset;
            this.startNanos = startNanos;
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

        /** Waits for the end, the deadline or a cancel, whichever comes first, then returns what happened. */
        public CommandResult await() throws InterruptedException {
            long deadlineNanos = startNanos + command.deadline().toNanos();
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
                        cancelled ? "was cancelled" : "passed its deadline of " + command.deadline(), process.pid());
                terminateTree();
            }
            int exitCode = process.waitFor();
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
            signalTree(Posix.SIGTERM);
            try {
                if (!process.waitFor(killGrace.toNanos(), TimeUnit.NANOSECONDS)) {
                    Log.warnf("%s ignored SIGTERM for %s; killing its process tree", command.label(), killGrace);
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
                            partial.delete(0, nl + 1);
                        }
                    }
                    if (ended) {
                        if (!partial.isEmpty()) {
                            deliver(partial.toString());
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

        private static int indexOfLineEnd(CharSequence s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\n' || c == '\r') {
                    return i;
                }
            }
            return -1;
        }

        private void deliver(String line) {
            try {
                listener.accept(line);
            } catch (RuntimeException e) {
                Log.warnf(e, "line listener failed on %s", file);
            }
        }
    }

    private static String findSetsid() {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            File candidate = new File(dir, "setsid");
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        Log.warn("setsid not found: a command's grandchildren can only be ended one by one on deadline");
        return null;
    }
}
