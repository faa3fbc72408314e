package dev.binhost.agent.emerge;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunHistory;
import dev.binhost.agent.history.RunHistoryTest;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.posix.Posix;
import dev.binhost.agent.process.AgentDeathTest;
import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UpdateLoopTest {
    @TempDir
    Path tmp;

    @Test
    void trigger_manyConcurrentTriggers_giveExactlyOneRun() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        s.scenarioKeys.put("LINE_DELAY", "0.01");
        UpdateRunner runner = s.runner();
        UpdateLoop loop = new UpdateLoop(runner, new UpdateSchedule("0 30 3 * * ?", Duration.ZERO,
                Duration.ofMinutes(10), true, Clock.systemUTC(), Optional.empty()), s.updateConfig(),
                Clock.systemUTC(), new Heartbeats(Clock.systemUTC()));
        loop.start();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<TriggerOutcome.Result> results = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 32; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    for (int k = 0; k < 5; k++) {
                        results.add(loop.request(UpdateRunner.Reason.TRIGGER, "admin").result());
                        Thread.sleep(10);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        RunRecord r = loop.awaitLast(60, TimeUnit.SECONDS).orElseThrow();
        assertEquals(RunOutcome.SUCCESS, r.outcome());
        assertEquals(1, results.stream().filter(x -> x == TriggerOutcome.Result.QUEUED).count(), results.toString());
        assertEquals(2, s.calls().size(), "one plan and one real emerge: " + s.calls());
        assertEquals(1, runner.history().read().size());
        assertEquals(new UpdateState.Idle(), loop.state());
        loop.close();
    }

    /** An agent restarted after a crash mid-run, with the master DOWN: its resume is blocked and owed. */
    private record BlockedResume(StandIn standIn, UpdateRunner runner, UpdateLoop loop, AtomicBoolean masterUp) {
    }

    private BlockedResume blockedResume() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        s.scenarioKeys.put("RESUME", Fixtures.DIR.resolve(Fixtures.entry("023-").file()).toString());
        s.config.put("binhost.update.resume-interrupted", "true");
        Path log = tmp.resolve("log/old-emerge.log");
        Files.createDirectories(log.getParent());
        Files.writeString(log, ">>> Emerging binary (1 of 11) app-misc/demo-1.0::gentoo\n");
        Files.createDirectories(tmp.resolve("state"));
        String record = RunHistory.json(RunHistoryTest.record(7, "x").withEnd(null, null, null))
                .replace("\"/log/e\"", "\"" + log + "\"");
        Files.writeString(tmp.resolve("state/current-run.json"),
                "{\"record\":" + record + ",\"phase\":\"apply\",\"emergePid\":null}");
        AtomicBoolean masterUp = new AtomicBoolean(false);
        RunPrecondition master = new RunPrecondition() {
            public String name() {
                return "master-up";
            }

            public Verdict check() {
                return masterUp.get() ? Verdict.ok("UP") : Verdict.no("DOWN");
            }
        };
        UpdateRunner runner = s.runner(List.of(master), Optional.empty());
        Clock clock = Clock.systemUTC();
        UpdateLoop loop = new UpdateLoop(runner, new UpdateSchedule("0 30 3 * * ?", Duration.ZERO,
                Duration.ofMinutes(10), true, clock, Optional.empty()), s.updateConfig(), clock,
                new Heartbeats(clock));
        loop.start();
        loop.awaitIdle();
        RunRecord blocked = loop.awaitLast(30, TimeUnit.SECONDS).orElseThrow();
        assertEquals(RunOutcome.SKIPPED, blocked.outcome());
        assertEquals(UpdateRunner.Reason.RESUME.tag(), blocked.reason());
        return new BlockedResume(s, runner, loop, masterUp);
    }

    @Test
    void start_markerLeftBehind_firstStepRecordsIt_blockedResumeStaysOwed_untilARunGetsThrough() throws Exception {
        BlockedResume b = blockedResume();
        UpdateLoop loop = b.loop();
        try {
            UpdateState owed = loop.state();
            assertTrue(owed instanceof UpdateState.ResumeOwed, owed.toString());
            assertEquals(((UpdateState.ResumeOwed) owed).retryAt(), loop.due(), "the loop sleeps until the retry");
            assertEquals(List.of(RunOutcome.INTERRUPTED), b.runner().history().read().stream()
                    .map(RunRecord::outcome).toList(), "recorded once; a blocked resume is not written");
            assertTrue(b.standIn().calls().isEmpty(), "no emerge while blocked");

            b.masterUp().set(true);
            TriggerOutcome o = loop.request(UpdateRunner.Reason.TRIGGER, "admin");
            assertEquals("run queued (resume, by admin)", o.message());
            RunRecord resumed = loop.awaitLast(30, TimeUnit.SECONDS).orElseThrow();
            assertEquals(RunOutcome.SUCCESS, resumed.outcome(), resumed.message());
            assertEquals(List.of("--resume"), b.standIn().calls());
            assertEquals(new UpdateState.Idle(), loop.state());
        } finally {
            loop.close();
        }
    }

    @Test
    void blockedResume_masterComesUp_resumesAtOnce_notAtTheRetryTime() throws Exception {
        BlockedResume b = blockedResume();
        UpdateLoop loop = b.loop();
        try {
            Instant retryAt = ((UpdateState.ResumeOwed) loop.state()).retryAt();
            assertTrue(retryAt.isAfter(Instant.now().plus(Duration.ofMinutes(9))), "owed for retry-interval: " + retryAt);
            b.masterUp().set(true);
            loop.masterCameUp();
            waitIdle(loop, b);
            assertEquals(List.of("--resume"), b.standIn().calls(), "the owed resume ran, nothing else");
            assertEquals(List.of(RunOutcome.INTERRUPTED, RunOutcome.SUCCESS), b.runner().history().read().stream()
                    .map(RunRecord::outcome).toList());
            assertEquals(new UpdateState.Idle(), loop.state());
        } finally {
            loop.close();
        }
    }

    @Test
    void masterComesUp_nothingOwed_changesNothing() throws Exception {
        BlockedResume b = blockedResume();
        UpdateLoop loop = b.loop();
        try {
            b.masterUp().set(true);
            loop.masterCameUp();
            waitIdle(loop, b);
            int calls = b.standIn().calls().size();
            Instant due = loop.due();
            loop.masterCameUp();
            loop.awaitIdle();
            assertEquals(calls, b.standIn().calls().size(), "no run when nothing was owed");
            assertEquals(due, loop.due(), "the cron time stays");
        } finally {
            loop.close();
        }
    }

    private static void waitIdle(UpdateLoop loop, BlockedResume b) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (b.standIn().calls().isEmpty() || loop.busy()) {
            assertTrue(System.nanoTime() < until, "no resume within 30 s: " + loop.state());
            Thread.sleep(10);
        }
        loop.awaitIdle();
    }

    @Test
    void schedule_lastRunBeforeAMissedSlot_catchUpDueAtOnce() {
        Clock now = Clock.fixed(Instant.parse("2026-11-24T12:00:00Z"), ZoneOffset.UTC);
        UpdateSchedule s = new UpdateSchedule("0 30 3 * * ?", Duration.ofMinutes(30), Duration.ofMinutes(10), true,
                now, Optional.of(Instant.parse("2026-11-22T03:35:00Z")));
        assertEquals(Optional.of(UpdateRunner.Reason.CATCH_UP), s.due());
        s.ran(true, true);
        assertTrue(s.due().isEmpty());
        Instant next = s.nextDue();
        assertTrue(!next.isBefore(Instant.parse("2026-11-25T03:30:00Z"))
                && !next.isAfter(Instant.parse("2026-11-25T04:00:00Z")), next.toString());
    }

    @Test
    void schedule_noMissedSlot_orCatchUpOff_waitsForTheNextCronTime() {
        Clock now = Clock.fixed(Instant.parse("2026-11-24T12:00:00Z"), ZoneOffset.UTC);
        assertTrue(new UpdateSchedule("0 30 3 * * ?", Duration.ZERO, Duration.ofMinutes(10), true, now,
                Optional.of(Instant.parse("2026-11-24T03:31:00Z"))).due().isEmpty());
        UpdateSchedule off = new UpdateSchedule("0 30 3 * * ?", Duration.ZERO, Duration.ofMinutes(10), false, now,
                Optional.of(Instant.parse("2026-11-20T03:31:00Z")));
        assertTrue(off.due().isEmpty());
        assertEquals(Instant.parse("2026-11-25T03:30:00Z"), off.nextDue());
    }

    @Test
    void schedule_blockedScheduledRun_retriedAsCatchUpAfterRetryInterval() {
        Instant[] t = {Instant.parse("2026-11-25T03:30:00Z")};
        Clock clock = new Clock() {
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            public Instant instant() {
                return t[0];
            }
        };
        UpdateSchedule s = new UpdateSchedule("0 30 3 * * ?", Duration.ZERO, Duration.ofMinutes(10), true, clock,
                Optional.of(Instant.parse("2026-11-24T03:30:05Z")));
        assertEquals(Optional.of(UpdateRunner.Reason.CATCH_UP), s.due(), "slot reached exactly now counts as missed");
        s.ran(true, false);
        assertTrue(s.due().isEmpty());
        t[0] = t[0].plus(Duration.ofMinutes(10));
        assertEquals(Optional.of(UpdateRunner.Reason.CATCH_UP), s.due());
    }

    /** A child JVM running one update with the slow stand-in emerge (AgentRunMain), until the test kills it. */
    private Process startAgentRun() throws java.io.IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), AgentRunMain.class.getName(), tmp.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("agent.out").toFile()).start();
    }

    @Test
    void agentSigkilledMidRun_nextStartRecordsInterrupted_andResumesWithEmergeResume() throws Exception {
        Process agent = startAgentRun();
        long emergePid;
        try {
            emergePid = UpdateRunnerTest.waitForMarkerPid(tmp.resolve("state/current-run.json"));
            Path log;
            try (var logs = Files.list(tmp.resolve("log"))) {
                log = logs.filter(p -> p.toString().endsWith("-emerge.log")).findFirst().orElseThrow();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Ansi.strip(Files.readString(log)).contains(">>> Completed (3 of 11)")
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        } finally {
            agent.destroyForcibly();
            agent.waitFor();
        }
        Posix posix = new JnrPosix();
        // not a zombie either: with no parent-death signal for emerge, the agent's death leaves it running
        assertTrue(AgentDeathTest.alive(emergePid), "emerge runs in its own session and outlives the agent");
        posix.kill((int) -emergePid, Posix.SIGKILL); // the machine going down takes it too
        ProcessHandle.of(emergePid).ifPresent(h -> h.onExit().join());

        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        s.scenarioKeys.put("RESUME", Fixtures.DIR.resolve(Fixtures.entry("023-").file()).toString());
        s.config.put("binhost.update.resume-interrupted", "true");
        UpdateRunner restarted = s.runner();
        RunRecord interrupted = restarted.recoverInterrupted().orElseThrow();
        assertEquals(RunOutcome.INTERRUPTED, interrupted.outcome());
        assertTrue(interrupted.message().contains("apply phase"), interrupted.message());
        assertTrue(interrupted.message().matches(".*Portage's records show \\d+ packages merged \\(\\d+ binary, 0 compiled\\).*"),
                interrupted.message());
        assertEquals(interrupted.installedBinary(), interrupted.merge().binary().size());
        assertEquals(11, interrupted.plan().binaries());
        assertTrue(restarted.recoverInterrupted().isEmpty(), "recorded once");
        RunRecord resumed = restarted.run(UpdateRunner.Reason.RESUME, "restart");
        assertEquals(RunOutcome.SUCCESS, resumed.outcome(), resumed.message());
        List<String> calls = s.calls();
        assertEquals("--resume", calls.get(calls.size() - 1));
        assertEquals(List.of(RunOutcome.INTERRUPTED, RunOutcome.SUCCESS), restarted.history().read().stream().map(RunRecord::outcome)
                .toList());
    }

    @Test
    void agentSigkilledMidRun_theEmergeGoesOn_andTheRestartedAgentRecordsItsEndFromTheRecords() throws Exception {
        Process agent = startAgentRun();
        long emergePid;
        try {
            emergePid = UpdateRunnerTest.waitForMarkerPid(tmp.resolve("state/current-run.json"));
        } finally {
            agent.destroyForcibly();
            agent.waitFor();
        }
        Posix posix = new JnrPosix();
        try {
            assertTrue(AgentDeathTest.alive(emergePid), "emerge outlives the agent");
            // the test's /proc view shows that process as the emerge it is
            Path entry = tmp.resolve("proc/" + emergePid);
            Files.createDirectories(entry);
            Files.writeString(entry.resolve("cmdline"), "emerge\0--usepkg\0@world\0");

            StandIn s = new StandIn(tmp).fixtures("016-", "020-");
            UpdateRunner restarted = s.runner();
            assertTrue(restarted.recoverInterrupted().isEmpty(), "not recorded while its emerge runs");
            assertEquals(emergePid, restarted.orphan().orElseThrow().pid());
            assertTrue(Files.exists(tmp.resolve("state/current-run.json")), "the marker stays until it is recorded");
            Optional<RunRecord> ended = Optional.empty();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (ended.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
                ended = restarted.watchOrphan();
            }
            RunRecord r = ended.orElseThrow(() -> new AssertionError("the left-over emerge never ended"));
            assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
            assertTrue(r.message().startsWith("emerge (pid " + emergePid + ") ran on while the agent restarted; merged 11 packages (11 binary, 0 compiled)"),
                    r.message());
            assertEquals(0, r.exitCode(), "the exit status emerge logged");
            assertEquals(11, r.merge().binary().size());
            assertEquals(List.of(r), restarted.history().read());
            assertFalse(Files.exists(tmp.resolve("state/current-run.json")));
            assertEquals(11, s.counter("binhost.update.packages", "kind", "binary"));
            assertTrue(restarted.orphan().isEmpty());
        } finally {
            if (AgentDeathTest.alive(emergePid)) {
                posix.kill((int) -emergePid, Posix.SIGKILL);
            }
        }
    }
}
