package dev.binhost.agent.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One external program to run: argv, environment additions, a hard deadline and where its output goes.
 *
 * <p>{@code log} empty means the output is kept only as a bounded tail (for short, frequent commands such as
 * mount probes); otherwise the child writes straight into that file, so it survives the agent going away.
 *
 * <p>{@code survivesAgent} false (the default) means the child is killed when the agent dies, even by SIGKILL;
 * true only for emerge's update run, which the agent adopts after a restart.
 *
 * <p>{@code interactiveStdin} true leaves the child's stdin a pipe the caller writes to while it runs
 * ({@link ProcessRunner.Running#stdin()}), for a program that asks a question (emerge {@code --ask} behind a
 * pseudo-terminal); otherwise stdin is {@code stdin}'s bytes, or {@code /dev/null}.
 *
 * <p>{@code disposable} true is for a short query with nothing to clean up (a mount probe): at its deadline it gets
 * SIGKILL without the SIGTERM grace, and the caller waits at most one more deadline for it to go. A {@code stat} on
 * a FUSE share whose server took the request and then froze cannot be killed until the server answers; the caller
 * needs the verdict "no answer", not the child's death.
 */
public record Command(
        String label,
        List<String> argv,
        Map<String, String> environment,
        Optional<Path> workingDirectory,
        Duration deadline,
        Optional<Path> log,
        Optional<byte[]> stdin,
        Optional<Consumer<String>> lineListener,
        boolean survivesAgent,
        boolean interactiveStdin,
        boolean disposable) {

    public Command {
        Objects.requireNonNull(label, "label");
        argv = List.copyOf(argv);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must name a program");
        }
        environment = Map.copyOf(environment);
        Objects.requireNonNull(deadline, "deadline");
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("deadline must be positive, was " + deadline);
        }
        if (disposable && survivesAgent) {
            throw new IllegalArgumentException("a disposable command cannot outlive the agent");
        }
        if (interactiveStdin && stdin.isPresent()) {
            throw new IllegalArgumentException("stdin is either given bytes or interactive, not both");
        }
    }

    public static Builder of(String label, String... argv) {
        return new Builder(label, List.of(argv));
    }

    public static Builder of(String label, List<String> argv) {
        return new Builder(label, argv);
    }

    /** The command line as an admin would type it, for logs and reports. */
    public String display() {
        StringBuilder sb = new StringBuilder();
        for (String arg : argv) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(arg.matches("[A-Za-z0-9_@%+=:,./-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'");
        }
        return sb.toString();
    }

    /** Fluent construction; only label, argv and deadline are mandatory. */
    public static final class Builder {
        private final String label;
        private final List<String> argv;
        private Map<String, String> environment = Map.of();
        private Path workingDirectory;
        private Duration deadline = Duration.ofMinutes(1);
        private Path log;
        private byte[] stdin;
        private Consumer<String> lineListener;
        private boolean survivesAgent;
        private boolean interactiveStdin;
        private boolean disposable;

        private Builder(String label, List<String> argv) {
            this.label = label;
            this.argv = argv;
        }

        public Builder environment(Map<String, String> environment) {
            this.environment = environment;
            return this;
        }

        public Builder workingDirectory(Path dir) {
            this.workingDirectory = dir;
            return this;
        }

        public Builder deadline(Duration deadline) {
            this.deadline = deadline;
            return this;
        }

        public Builder log(Path log) {
            this.log = log;
            return this;
        }

        public Builder stdin(byte[] stdin) {
            this.stdin = stdin;
            return this;
        }

        /** Called with each complete output line, from the runner's follower thread, while the command runs. */
        public Builder onLine(Consumer<String> listener) {
            this.lineListener = listener;
            return this;
        }

        /**
         * Lets the child outlive the agent: only for emerge's update run, which must not be cut short by an agent
         * restart (the next start records it). Everything else dies with the agent.
         */
        public Builder survivesAgent() {
            this.survivesAgent = true;
            return this;
        }

        /**
         * Keeps the child's stdin a pipe for the caller to write while the child runs; closing it (or the agent
         * dying) gives the child end of file.
         */
        public Builder interactiveStdin() {
            this.interactiveStdin = true;
            return this;
        }

        /** A short query with nothing to clean up: killed at once at its deadline, and not waited for long. */
        public Builder disposable() {
            this.disposable = true;
            return this;
        }

        public Command build() {
            return new Command(label, argv, environment, Optional.ofNullable(workingDirectory), deadline,
                    Optional.ofNullable(log), Optional.ofNullable(stdin), Optional.ofNullable(lineListener),
                    survivesAgent, interactiveStdin, disposable);
        }
    }
}
