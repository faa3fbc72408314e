package dev.binhost.agent.emerge;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The --ask protocol under the real util-linux {@code script}, against the stand-in replaying real transcripts of
 * {@code emerge --ask --verbose} (fixtures/ask): it sees the terminal emerge sees, reads the answer from it, and
 * replays what real emerge printed after that answer.
 */
class AskedEmergeTest {
    private static final List<String> SEED = List.of("--usepkg", "--update", "--deep", "--changed-use",
            "--with-bdeps", "y", "@world");
    private static final Duration PLAN = Duration.ofSeconds(20);
    private static final Duration RUN = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private final ProcessRunner runner = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 65536);
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private StandIn standIn(String yes, String no) {
        StandIn s = new StandIn(tmp).ask(yes, no);
        s.writeScenario();
        return s;
    }

    private List<String> emerge(StandIn s, List<String> args) {
        List<String> argv = new ArrayList<>(List.of(StandIn.SCRIPT.toString(), s.scenario.toString()));
        argv.addAll(args);
        argv.addAll(List.of("--ask", "--verbose"));
        return argv;
    }

    private AskedEmerge.Result run(StandIn s, AskedEmerge.Decision decide) throws Exception {
        return new AskedEmerge(runner).run(emerge(s, SEED), PLAN, RUN, tmp.resolve("log/emerge.log"), lines::add,
                decide);
    }

    private String log() throws Exception {
        return Files.readString(tmp.resolve("log/emerge.log"), StandardCharsets.UTF_8);
    }

    @Test
    void yes_planSeenBeforeAnyMerge_thenTheSameProcessRunsToItsEnd() throws Exception {
        StandIn s = standIn("slave-mixed-ask-yes.rc0.txt", "slave-mixed-ask-no.rc130.txt");
        AtomicReference<String> logAtDecision = new AtomicReference<>();
        AtomicReference<Long> pidAtDecision = new AtomicReference<>();
        AskedEmerge.Result r = run(s, (plan, pid) -> {
            try {
                logAtDecision.set(log());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            pidAtDecision.set(pid);
            return plan.binaries().size() == 7 && plan.compiled().size() == 3;
        });
        assertEquals(AskedEmerge.Ending.APPROVED, r.ending());
        assertEquals(AskedEmerge.Answer.YES, r.answer());
        assertEquals(10, r.plan().installCount());
        assertEquals(List.of("dev-libs/libdemo-1.2.3", "app-editors/demo-edit-0.9", "net-misc/demo-daemon-1.5"),
                r.plan().compiled().stream().map(PlannedPackage::cpv).toList());
        assertEquals(CompileReason.Kind.USE_DIFFERS, r.plan().compiled().get(1).reason().orElseThrow().kind());
        assertEquals(AskedEmerge.MERGE_QUESTION, r.question().orElseThrow());
        CommandResult c = r.command().orElseThrow();
        assertEquals(0, c.exitCode(), c.outputTail());
        assertFalse(c.timedOut());
        assertTrue(r.fallback().isEmpty());
        assertFalse(logAtDecision.get().contains(">>> Emerging"), "decided before emerge merged anything");
        assertTrue(logAtDecision.get().endsWith("[Yes/No] "), logAtDecision.get());
        assertEquals(r.pid().getAsLong(), pidAtDecision.get());
        String log = log();
        assertTrue(log.contains("Would you like to merge these packages? [Yes/No] Yes\n"), "the terminal echoed the answer");
        assertTrue(log.contains(">>> Completed (10 of 10) net-misc/demo-daemon-1.5::gentoo"));
        assertFalse(log.contains("\r"), "stty -onlcr keeps \\n line ends");
        EmergeProgress.Snapshot progress = EmergeProgress.of(String.join("\n", lines));
        assertEquals(7, progress.completedBinary());
        assertEquals(3, progress.completedCompiled());
        assertTrue(lines.contains("Total: 10 packages (10 new, 7 binaries), Size of downloads: 2 KiB"), "plan lines too");
        assertEquals(log.split("\n", -1).length - 1, lines.size(), "one line per line end");
        assertEquals(1, s.calls().size(), "one emerge");
    }

    @Test
    void no_emergeQuitsWithoutMerging() throws Exception {
        StandIn s = standIn("slave-mixed-ask-yes.rc0.txt", "slave-mixed-ask-no.rc130.txt");
        AtomicInteger asked = new AtomicInteger();
        AskedEmerge.Result r = run(s, (plan, pid) -> {
            asked.incrementAndGet();
            return false;
        });
        assertEquals(1, asked.get());
        assertEquals(AskedEmerge.Ending.DECLINED, r.ending());
        assertEquals(AskedEmerge.Answer.NO, r.answer());
        assertEquals(10, r.plan().installCount());
        assertEquals(130, r.command().orElseThrow().exitCode());
        String log = log();
        assertTrue(log.contains("[Yes/No] No\n\nQuitting."), log);
        assertFalse(log.contains(">>> Emerging"));
    }

    @Test
    void nothingToMerge_noQuestion_decisionNeverCalled() throws Exception {
        StandIn s = standIn("slave-mixed-ask-nothing.rc0.txt", null);
        AskedEmerge.Result r = run(s, (plan, pid) -> {
            throw new AssertionError("no question, no decision");
        });
        assertEquals(AskedEmerge.Ending.NOTHING_TO_MERGE, r.ending());
        assertEquals(AskedEmerge.Answer.NONE, r.answer());
        assertEquals(0, r.plan().installCount());
        assertEquals(0, r.command().orElseThrow().exitCode());
        assertTrue(r.fallback().isEmpty());
    }

    @Test
    void planError_exitsBeforeAsking_planFailedWithTheBlocker() throws Exception {
        StandIn s = standIn("slave-mixed-ask-hard-blocker.rc1.txt", null);
        AskedEmerge.Result r = run(s, (plan, pid) -> {
            throw new AssertionError("no question, no decision");
        });
        assertEquals(AskedEmerge.Ending.PLAN_FAILED, r.ending());
        assertEquals(1, r.command().orElseThrow().exitCode());
        assertTrue(r.plan().hasUnsatisfiedHardBlocker(), r.plan().toString());
        assertTrue(r.fallback().isEmpty());
    }

    @Test
    void questionNeverComes_endedAtThePlanDeadline() throws Exception {
        StandIn s = new StandIn(tmp).ask("slave-mixed-ask-yes.rc0.txt", null);
        s.scenarioKeys.put("HANG_AFTER", "4");
        s.writeScenario();
        long start = System.nanoTime();
        AskedEmerge.Result r = new AskedEmerge(runner).run(emerge(s, SEED), Duration.ofSeconds(2), RUN,
                tmp.resolve("log/emerge.log"), lines::add, (plan, pid) -> {
                    throw new AssertionError("no question, no decision");
                });
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertEquals(AskedEmerge.Ending.PROMPT_TIMEOUT, r.ending());
        assertTrue(r.command().orElseThrow().timedOut());
        assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, "deadline 2 s + grace 2 s, took " + took);
        assertTrue(log().startsWith("\nThese are the packages that would be merged, in order:\n"), log());
        assertFalse(log().contains("[Yes/No]"));
    }

    @Test
    void nastyArguments_reachEmergeExactly_andNothingInThemRuns() throws Exception {
        StandIn s = standIn("slave-mixed-ask-nothing.rc0.txt", null);
        Path argv = tmp.resolve("argv.bin");
        Path pwned = tmp.resolve("pwned");
        Path wrapper = tmp.resolve("record-argv.sh");
        Files.writeString(wrapper, "#!/bin/bash\nprintf '%s\\0' \"$@\" > '" + argv + "'\nexec \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        List<String> nasty = List.of("it's", "a b", "$(touch " + pwned + ")", "`touch " + pwned + "`", "\"q\"",
                "back\\slash", "*", "", "semi;colon && touch " + pwned, "new\nline", "'", "''", "--exclude=x'y", "~");
        List<String> command = new ArrayList<>(List.of(wrapper.toString(), StandIn.SCRIPT.toString(),
                s.scenario.toString()));
        command.addAll(nasty);
        command.addAll(List.of("--ask", "--verbose"));
        AskedEmerge.Result r = new AskedEmerge(runner).run(command, PLAN, RUN, tmp.resolve("log/emerge.log"),
                lines::add, (plan, pid) -> false);
        assertEquals(AskedEmerge.Ending.NOTHING_TO_MERGE, r.ending(), log());
        String recorded = Files.readString(argv, StandardCharsets.UTF_8);
        List<String> got = Arrays.asList(recorded.substring(0, recorded.length() - 1).split("\0", -1));
        assertEquals(command.subList(1, command.size()), got);
        assertFalse(Files.exists(pwned), "an argument was run by the shell");
    }

    @Test
    void scriptMissing_protocolFailed_nothingStarted() throws Exception {
        StandIn s = standIn("slave-mixed-ask-yes.rc0.txt", null);
        AskedEmerge.Result r = new AskedEmerge(runner, tmp.resolve("no-such/script").toString()).run(emerge(s, SEED),
                PLAN, RUN, tmp.resolve("log/emerge.log"), lines::add, (plan, pid) -> true);
        assertEquals(AskedEmerge.Ending.PROTOCOL_FAILED, r.ending());
        assertTrue(r.command().isEmpty());
        assertTrue(r.fallback().orElseThrow().startsWith("cannot use a pseudo-terminal: cannot start "), r.fallback().get());
        assertTrue(s.calls().isEmpty());
    }

    @Test
    void stdinNotATerminal_emergeRefusesAsk_protocolFailed() throws Exception {
        // a wrapper between script and emerge that gives emerge /dev/null: real emerge refuses --ask (recorded)
        StandIn s = standIn("slave-mixed-ask-yes.rc0.txt", null);
        Path wrapper = tmp.resolve("no-tty.sh");
        Files.writeString(wrapper, "#!/bin/bash\nexec \"$@\" < /dev/null\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        List<String> command = new ArrayList<>(List.of(wrapper.toString()));
        command.addAll(emerge(s, SEED));
        AskedEmerge.Result r = new AskedEmerge(runner).run(command, PLAN, RUN, tmp.resolve("log/emerge.log"),
                lines::add, (plan, pid) -> true);
        assertEquals(AskedEmerge.Ending.PROTOCOL_FAILED, r.ending());
        assertEquals(1, r.command().orElseThrow().exitCode());
        assertEquals("emerge refused --ask: its stdin was not a terminal", r.fallback().orElseThrow());
    }

    @Test
    void terminalNotDumb_titleColoursSpinnerAndCrlf_questionStillRecognised() throws Exception {
        StandIn s = standIn("slave-mixed-ask-no-term-xterm.rc130.txt", "slave-mixed-ask-no-term-xterm.rc130.txt");
        AtomicReference<EmergePlan> seen = new AtomicReference<>();
        AskedEmerge.Result r = run(s, (plan, pid) -> {
            seen.set(plan);
            return false;
        });
        assertEquals(AskedEmerge.Ending.DECLINED, r.ending());
        assertEquals(AskedEmerge.MERGE_QUESTION, r.question().orElseThrow());
        assertEquals(7, seen.get().binaries().size());
        assertEquals(3, seen.get().compiled().size());
        assertEquals(130, r.command().orElseThrow().exitCode());
    }

    @Test
    void decisionThrows_answeredNo_nothingMerged() throws Exception {
        StandIn s = standIn("slave-mixed-ask-yes.rc0.txt", "slave-mixed-ask-no.rc130.txt");
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> run(s, (plan, pid) -> {
                    throw new IllegalStateException("policy broke");
                }));
        assertEquals("policy broke", e.getMessage());
        // emerge got No and quits by itself
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!log().contains("Quitting.") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(log().contains("[Yes/No] No\n"), log());
        assertFalse(log().contains(">>> Emerging"));
    }

    /**
     * The recording helper's transcripts (fixtures/ask/rec, copied from fixtures/records/NN-…/output.rcN.txt of
     * branch i12-rec): emerge --ask without --verbose, TERM unset or xterm, --color=n, --jobs 2, raw pty bytes.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"20-mixed-ask-yes-pty.output.rc0.txt",
        "22-mixed-ask-yes-pty-color-n.output.rc0.txt", "23-mixed-ask-yes-pty-term-xterm.output.rc0.txt",
        "24-mixed-ask-yes-pty-jobs2.output.rc0.txt", "25-mixed-ask-yes-pty-jobs2-term-xterm.output.rc0.txt"})
    void recordedTranscripts_yes_questionRecognisedAndPlanParsedBeforeTheRun(String yes) throws Exception {
        StandIn s = standIn("rec/" + yes, "rec/19-mixed-ask-no-pty.output.rc130.txt");
        AtomicReference<EmergePlan> seen = new AtomicReference<>();
        AskedEmerge.Result r = run(s, (plan, pid) -> {
            seen.set(plan);
            return true;
        });
        assertEquals(AskedEmerge.Ending.APPROVED, r.ending(), log());
        assertEquals(7, seen.get().binaries().size(), seen.get().toString());
        assertEquals(3, seen.get().compiled().size());
        assertEquals(0, r.command().orElseThrow().exitCode());
        assertTrue(Ansi.strip(log()).contains("[Yes/No] Yes"));
        assertTrue(Ansi.strip(log()).contains("demo-daemon 1.5 installed"), "the run's end replayed");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"19-mixed-ask-no-pty.output.rc130.txt",
        "21-mixed-ask-no-pty-color-n.output.rc130.txt"})
    void recordedTranscripts_no_declined(String no) throws Exception {
        StandIn s = standIn("rec/20-mixed-ask-yes-pty.output.rc0.txt", "rec/" + no);
        AskedEmerge.Result r = run(s, (plan, pid) -> false);
        assertEquals(AskedEmerge.Ending.DECLINED, r.ending(), log());
        assertEquals(130, r.command().orElseThrow().exitCode());
        assertTrue(log().contains("Quitting."));
    }

    @Test
    void recordedRefusal_isTheOneTheStandInReplays() throws Exception {
        assertEquals(Files.readString(StandIn.ASK_DIR.resolve("rec/26-mixed-ask-stdin-not-tty.output.rc1.txt")),
                Files.readString(StandIn.ASK_DIR.resolve("ask-refused.rc1.txt")));
    }

    @Test
    void shellLine_quotesEveryArgument() {
        assertEquals("stty -onlcr 2>/dev/null; exec '/usr/bin/emerge' 'it'\\''s' ''", AskedEmerge.shellLine(
                List.of("/usr/bin/emerge", "it's", "")));
    }
}
