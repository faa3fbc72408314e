package dev.binhost.agent.emerge;

import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import io.quarkus.logging.Log;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One emerge process that plans and applies: the real run with {@code --ask --verbose}, its stdin and stdout on
 * a pseudo-terminal (util-linux {@code script}, since emerge refuses {@code --ask} when stdin is no terminal), the
 * plan read from what it prints up to its question, a decision on that plan, and {@code Yes} or {@code No}
 * typed in answer. So the run installs exactly the plan that was approved, after one dependency resolution
 * instead of two ({@code --pretend}, then the run).
 *
 * <p>What Portage 3.0.82 does, from its source ({@code _emerge/actions.py}, {@code _emerge/UserQuery.py}):
 * with {@code --ask} it prints the package list (as {@code --pretend --verbose} would), the problems, a blank
 * line, then {@code Would you like to merge these packages? [Yes/No] } with no line end, and reads a line.
 * {@code No} prints {@code Quitting.} and exits 130; end of input prints {@code Interrupted.} and exits 130;
 * {@code Yes} merges and asks nothing more. With nothing to merge it prints {@code Nothing to merge; quitting.}
 * and exits 0 without asking; a failed resolution exits 1 without asking; with stdin not a terminal it prints
 * {@code !!! "--ask" should only be used in a terminal. Exiting.} and exits 1.
 *
 * <p>The terminal: {@code TERM=dumb} keeps emerge's output as it is on a pipe (no colour unless {@code --color=y}
 * is asked for, a static spinner, no rewritten {@code --jobs} status line); {@code stty -onlcr} keeps line ends
 * {@code \n}, so the log reads like a piped run's (a {@code \r\n} that gets through is tolerated everywhere).
 * The terminal echoes the answer after the question, so the log shows what was answered. After the answer
 * stdin is closed: emerge reads nothing more, and a build that reads its stdin gets end of file, as it does
 * from {@code /dev/null} in a piped run. The agent dying before the answer closes stdin too, so emerge ends
 * ({@code Interrupted.}) and nothing unapproved is merged.
 *
 * <p>When the protocol fails ({@code script} missing or failing, emerge refusing {@code --ask}, a question
 * that is not the merge question) the result says why in {@link Result#fallback()}; the caller then plans with
 * {@code --pretend} and runs again, as before.
 */
public final class AskedEmerge {
    /** The question emerge asks before a merge (Portage's {@code actions.py}). */
    public static final String MERGE_QUESTION = "Would you like to merge these packages?";
    /** What emerge prints, and exits 0, when it has nothing to merge. */
    static final String NOTHING_TO_MERGE = "Nothing to merge; quitting.";
    /** What emerge prints, and exits 1, when its stdin is no terminal. */
    static final String REFUSED_ASK = "\"--ask\" should only be used in a terminal";
    /** A question awaiting its answer: the last, unterminated line, e.g. {@code Q? [Yes/No] }. */
    private static final Pattern QUESTION = Pattern.compile("^(.*\\?) \\[(\\w+(?:/\\w+)+)\\] \\z");
    /** An error line of util-linux script itself ("script: failed to create pseudo terminal"). */
    private static final Pattern SCRIPT_ERROR = Pattern.compile("(?m)^script: .*$");
    /** An xterm title: ESC ] … BEL (or ESC \\). */
    private static final Pattern TITLE = Pattern.compile("\u001B\\][^\u0007\u001B]*(?:\u0007|\u001B\\\\)");
    private static final long POLL_MILLIS = 50;

    /** How the process ended, seen from the protocol. */
    public enum Ending {
        /** The plan was approved, {@code Yes} answered, and the run went on to its end (or its deadline). */
        APPROVED,
        /** The plan was declined and {@code No} answered; emerge quit without merging. */
        DECLINED,
        /** emerge had nothing to merge and exited without asking. */
        NOTHING_TO_MERGE,
        /** emerge exited non-zero before asking: the resolution failed (see the plan's errors). */
        PLAN_FAILED,
        /** emerge did not ask within the plan deadline and was ended. */
        PROMPT_TIMEOUT,
        /** emerge exited 0 without asking, with packages in its plan: it did not follow the protocol. */
        UNASKED,
        /** The protocol could not be used (see {@link Result#fallback()}); nothing was merged. */
        PROTOCOL_FAILED
    }

    /** What was answered. */
    public enum Answer { YES, NO, NONE }

    /** The decision on a plan, called once with the plan emerge printed and the pid of the emerge command. */
    @FunctionalInterface
    public interface Decision {
        boolean approve(EmergePlan plan, long pid);
    }

    /**
     * What happened. {@code plan} is what emerge printed before its question, or before it ended;
     * {@code command} is empty only when nothing could be started; {@code question} is the question seen.
     */
    public record Result(Ending ending, Answer answer, EmergePlan plan, Optional<CommandResult> command,
            Optional<String> fallback, Optional<String> question, OptionalLong pid) {
        public Result {
            Objects.requireNonNull(ending, "ending");
            Objects.requireNonNull(plan, "plan");
        }
    }

    private final ProcessRunner runner;
    private final String script;

    /** {@code script}: util-linux script, by path or by name in PATH ("script"). */
    public AskedEmerge(ProcessRunner runner, String script) {
        this.runner = runner;
        this.script = script;
    }

    public AskedEmerge(ProcessRunner runner) {
        this(runner, "script");
    }

    /**
     * Runs {@code emerge} ({@code command}: program and arguments, without {@code --ask}) to its end on the
     * calling thread. {@code planDeadline} bounds the time to the question; {@code runDeadline} runs from the
     * answer. {@code onLine} gets every output line, plan and run, as the process prints it; {@code decide} is
     * called on the calling thread while emerge waits. The child may outlive the agent (like every update run).
     *
     * @throws IOException when emerge ({@code command}'s program) cannot be found or the log not written
     */
    public Result run(List<String> command, Duration planDeadline, Duration runDeadline, Path log,
            Consumer<String> onLine, Decision decide) throws IOException, InterruptedException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        if (!Files.exists(log)) {
            Files.createFile(log);
        }
        long offset = Files.size(log);
        // a missing emerge fails here, as it does without the terminal, not as "exec: not found" inside script
        List<String> exec = new ArrayList<>(command);
        exec.set(0, ProcessRunner.resolve(command.get(0), Map.of()));
        List<String> argv = new ArrayList<>(List.of(script, "--quiet", "--return", "--flush", "--command",
                shellLine(exec), "/dev/null"));
        ProcessRunner.Running running;
        try {
            running = runner.start(Command.of("emerge", argv).environment(Map.of("TERM", "dumb", "SHELL", "/bin/sh"))
                    .log(log).survivesAgent().interactiveStdin().deadline(planDeadline).onLine(onLine).build());
        } catch (IOException e) {
            return failed("cannot use a pseudo-terminal: " + e.getMessage(), EmergePlan.parse(""), Optional.empty());
        }
        CompletableFuture<CommandResult> ended = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                ended.complete(running.await());
            } catch (Throwable t) {
                ended.completeExceptionally(t);
            }
        }, "asked-emerge-" + running.pid());
        waiter.setDaemon(true);
        waiter.start();

        String seen = "";
        Matcher question = null;
        try (RandomAccessFile in = new RandomAccessFile(log.toFile(), "r")) {
            long length = offset;
            while (true) {
                boolean exited = ended.isDone();
                if (in.length() != length) {
                    length = in.length();
                    seen = plain(read(in, offset));
                    question = QUESTION.matcher(seen.substring(seen.lastIndexOf('\n') + 1));
                    if (question.find()) {
                        break;
                    }
                    question = null;
                }
                if (exited) {
                    break;
                }
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            running.cancel();
            throw e;
        }

        if (question == null) {
            CommandResult result = result(ended, waiter);
            String out = plain(read(log, offset));
            return withoutQuestion(result, out);
        }
        String asked = question.group(1).strip();
        EmergePlan plan = EmergePlan.parse(seen.substring(0, seen.lastIndexOf('\n') + 1));
        long pid = running.pid();
        OptionalLong child = ProcessHandle.of(pid).flatMap(p -> p.children().findFirst())
                .map(p -> OptionalLong.of(p.pid())).orElse(OptionalLong.empty());
        long emergePid = child.orElse(pid);
        if (!asked.equals(MERGE_QUESTION)) {
            answer(running, "No");
            CommandResult result = result(ended, waiter);
            return new Result(Ending.PROTOCOL_FAILED, Answer.NO, plan, Optional.of(result),
                    Optional.of("emerge asked \"" + asked + " [" + question.group(2) + "]\", not \"" + MERGE_QUESTION
                            + "\"; answered No"), Optional.of(asked), OptionalLong.of(emergePid));
        }
        boolean yes = false;
        try {
            yes = decide.approve(plan, emergePid);
        } finally {
            if (yes) {
                running.deadlineFromNow(runDeadline);
            }
            // a decision that threw is a No: nothing unapproved is merged
            answer(running, yes ? "Yes" : "No");
        }
        CommandResult result = result(ended, waiter);
        return new Result(yes ? Ending.APPROVED : Ending.DECLINED, yes ? Answer.YES : Answer.NO, plan,
                Optional.of(result), Optional.empty(), Optional.of(asked), OptionalLong.of(emergePid));
    }

    /** emerge ended (or was ended) without asking: nothing to merge, a failed plan, a timeout, or no protocol. */
    private static Result withoutQuestion(CommandResult result, String out) {
        EmergePlan plan = EmergePlan.parse(out);
        if (result.timedOut()) {
            return new Result(Ending.PROMPT_TIMEOUT, Answer.NONE, plan, Optional.of(result), Optional.empty(),
                    Optional.empty(), OptionalLong.empty());
        }
        if (out.contains(REFUSED_ASK)) {
            return failed("emerge refused --ask: its stdin was not a terminal", plan, Optional.of(result));
        }
        Matcher scriptError = SCRIPT_ERROR.matcher(out);
        if (result.exitCode() != 0 && scriptError.find() && plan.packages().isEmpty() && plan.notices().isEmpty()) {
            return failed("script failed: " + scriptError.group().strip(), plan, Optional.of(result));
        }
        if (result.exitCode() != 0) {
            return new Result(Ending.PLAN_FAILED, Answer.NONE, plan, Optional.of(result), Optional.empty(),
                    Optional.empty(), OptionalLong.empty());
        }
        if (out.contains(NOTHING_TO_MERGE) || plan.installCount() == 0) {
            return new Result(Ending.NOTHING_TO_MERGE, Answer.NONE, plan, Optional.of(result), Optional.empty(),
                    Optional.empty(), OptionalLong.empty());
        }
        return new Result(Ending.UNASKED, Answer.NONE, plan, Optional.of(result),
                Optional.of("emerge exited 0 without asking, with " + plan.installCount() + " package(s) in its plan"),
                Optional.empty(), OptionalLong.empty());
    }

    private static Result failed(String why, EmergePlan plan, Optional<CommandResult> result) {
        return new Result(Ending.PROTOCOL_FAILED, Answer.NONE, plan, result, Optional.of(why), Optional.empty(),
                OptionalLong.empty());
    }

    /** Types the answer and closes stdin; a child already gone is not an error (its result says why). */
    private static void answer(ProcessRunner.Running running, String answer) {
        try (OutputStream in = running.stdin()) {
            in.write((answer + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            Log.warnf("Cannot answer %s to emerge (pid %d): %s", answer, running.pid(), e.getMessage());
        }
    }

    private static CommandResult result(CompletableFuture<CommandResult> ended, Thread waiter)
            throws InterruptedException {
        try {
            return ended.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof InterruptedException ie) {
                throw ie;
            }
            throw new IllegalStateException("waiting for emerge failed: " + e.getCause(), e.getCause());
        } finally {
            waiter.join(TimeUnit.SECONDS.toMillis(1));
        }
    }

    /** The shell line script runs: line ends kept as {@code \n}, then emerge exec'd with each argument quoted. */
    static String shellLine(List<String> command) {
        StringBuilder sb = new StringBuilder("stty -onlcr 2>/dev/null; exec");
        for (String arg : command) {
            sb.append(' ').append(quote(arg));
        }
        return sb.toString();
    }

    /** One argument for {@code sh -c}: in single quotes, each {@code '} written as {@code '\''}. */
    static String quote(String arg) {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /**
     * Text as parsed: colour codes, window-title sequences (emerge sets the title when TERM is not dumb),
     * {@code \r} before line ends and the bell of {@code --alert} removed.
     */
    static String plain(String raw) {
        return Ansi.strip(TITLE.matcher(raw).replaceAll("")).replace("\r\n", "\n").replace("\u0007", "");
    }

    private static String read(RandomAccessFile in, long offset) throws IOException {
        long length = in.length();
        if (length <= offset) {
            return "";
        }
        byte[] bytes = new byte[(int) Math.min(length - offset, Integer.MAX_VALUE - 8)];
        in.seek(offset);
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static String read(Path log, long offset) throws IOException {
        try (RandomAccessFile in = new RandomAccessFile(log.toFile(), "r")) {
            return read(in, offset);
        }
    }
}
