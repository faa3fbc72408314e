package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunHistory;
import dev.binhost.agent.history.RunHistoryTest;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UpdateRunnerTest {
    private static final String SEED_ARGS = "--usepkg --update --deep --changed-use --with-bdeps y @world";

    @TempDir
    Path tmp;

    @Test
    void run_allBinarySlave_plansThenAppliesTheSeedCommand_andCountsElevenBinaries() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        UpdateRunner runner = s.runner();
        RunRecord r = runner.run(UpdateRunner.Reason.TRIGGER, "test");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals(List.of(SEED_ARGS + " --pretend --verbose", SEED_ARGS), s.calls());
        assertEquals(11, r.plan().binaries());
        assertEquals(0, r.plan().compiled());
        assertEquals(null, r.plan().fetched(), "binaries from the local (NFS) PKGDIR are not fetched");
        assertEquals(11, r.installedBinary());
        assertEquals(0, r.installedCompiled());
        assertTrue(Ansi.strip(Files.readString(Path.of(r.log()))).contains(">>> Completed (11 of 11)"));
        assertEquals(1, s.counter("binhost.update.runs", "outcome", "success"));
        assertEquals(11, s.counter("binhost.update.packages", "kind", "binary"));
        assertTrue(s.registry.find("binhost.update.last.success").gauge().value() > 0);
        assertEquals(List.of(r), runner.history().read());
        assertFalse(Files.exists(tmp.resolve("state/current-run.json")), "marker removed after the run");
    }

    @Test
    void start_historyWithBadLines_doesNotThrow_andLastSuccessIsTheNewestGoodOne() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        RunHistoryTest.writeBadHistory(tmp.resolve("state/history.jsonl"));
        UpdateRunner runner = s.runner();
        assertEquals(0, s.registry.find("binhost.update.last.success").gauge().value(), "nothing read yet");
        runner.load();
        assertEquals(Instant.parse("2026-11-24T03:40:00Z").getEpochSecond(),
                (long) s.registry.find("binhost.update.last.success").gauge().value());
        assertEquals(3, runner.history().read().size());
        assertTrue(runner.recoverInterrupted().isEmpty());
        RunRecord r = runner.run(UpdateRunner.Reason.TRIGGER, "test");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals(r, runner.history().last().orElseThrow());
    }

    @Test
    void recoverInterrupted_markerThatParsesButIsBroken_isSkippedAndRemoved_andNoRunIsRecorded() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        String record = RunHistory.json(RunHistoryTest.record(1, "m"));
        for (String marker : List.of("{}", "null", "[1]", "{\"record\":null,\"phase\":\"apply\"}",
                "{\"record\":" + record.replace("\"startedAt\":\"2026-11-24T03:30:00Z\"", "\"startedAt\":\"soon\"")
                        + ",\"phase\":\"apply\"}",
                "{\"record\":" + record.replace("\"id\":\"run-1\",", "") + ",\"phase\":\"apply\"}",
                "{\"record\":" + record.replace("\"/log/e\"", "\"/log/\\u0000e\"") + ",\"phase\":\"apply\"}",
                "{\"record\":" + record + ",\"phase\":\"apply\",\"emergePid\":\"many\"}",
                "\u00ff\u0000garbage")) {
            Files.createDirectories(tmp.resolve("state"));
            Files.writeString(tmp.resolve("state/current-run.json"), marker);
            UpdateRunner runner = s.runner();
            assertTrue(runner.recoverInterrupted().isEmpty(), marker);
            assertFalse(Files.exists(tmp.resolve("state/current-run.json")), "removed: " + marker);
            assertEquals(List.of(), runner.history().read(), marker);
        }
    }

    @Test
    void lastRun_stampThatIsNotATime_isTreatedAsNoRunYet() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        Files.createDirectories(tmp.resolve("state"));
        Files.write(tmp.resolve("state/last-run"), new byte[] {(byte) 0xff, 0, 'x'});
        assertEquals(Optional.empty(), s.runner().lastRun());
    }

    @Test
    void run_mixedSlave_reportsThreeCompiledWithUseReasons_andSevenBinaries() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("030-", "035-");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals(7, r.plan().binaries());
        assertEquals(3, r.plan().compiled());
        assertEquals(List.of("dev-libs/libdemo-1.2.3", "app-editors/demo-edit-0.9", "net-misc/demo-daemon-1.5"),
                r.plan().compiledPackages().stream().map(RunRecord.Compiled::cpv).toList());
        assertTrue(r.plan().compiledPackages().stream().allMatch(c -> c.reason().equals("use-differs")));
        assertTrue(r.plan().compiledPackages().get(1).detail().contains("binary has X gtk"));
        assertEquals(7, r.installedBinary());
        assertEquals(3, r.installedCompiled());
        assertEquals(3, s.counter("binhost.update.packages", "kind", "compiled"));
    }

    @Test
    void run_nothingToDo_neverStartsTheRealEmerge() {
        StandIn s = new StandIn(tmp).fixtures("022-", "024-");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.NOTHING_TO_DO, r.outcome());
        assertEquals(1, s.calls().size());
        assertEquals(0, s.registry.find("binhost.update.pending").gauge().value());
    }

    @Test
    void run_chostSlaveWithBinariesOnlyRefuse_refusesNamingRuleAndAllElevenPackages() {
        StandIn s = new StandIn(tmp).fixtures("039-", null);
        s.config.put("binhost.update.binaries-only", "refuse");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.REFUSED, r.outcome());
        assertEquals("binaries-only", r.policy());
        assertTrue(r.message().contains("11 package(s) would be compiled"), r.message());
        assertTrue(r.message().contains("app-misc/demo-cli-2.0"), r.message());
        assertTrue(r.plan().compiledPackages().stream().allMatch(c -> c.reason().equals("no-usable-binaries")));
        assertEquals(1, s.calls().size(), "refused before the real emerge");
        assertEquals(11, s.registry.find("binhost.update.pending").gauge().value());
    }

    @Test
    void run_mixedWithMaxLocalBuildsTwo_refusedByThatRule() {
        StandIn s = new StandIn(tmp).fixtures("030-", "035-");
        s.config.put("binhost.update.max-local-builds", "2");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.REFUSED, r.outcome());
        assertEquals("max-local-builds", r.policy());
        assertTrue(r.message().contains("net-misc/demo-daemon-1.5"), r.message());
    }

    @Test
    void run_notifyOnlyWithExcludeAndUsepkgonly_passesTheOptionsAndInstallsNothing() {
        StandIn s = new StandIn(tmp).fixtures("030-", "035-");
        s.config.put("binhost.update.mode", "notify-only");
        s.config.put("binhost.update.exclude", "app-editors/demo-edit,net-misc/demo-daemon");
        s.config.put("binhost.update.binaries-only", "usepkgonly");
        RunRecord r = s.runner().run(UpdateRunner.Reason.TRIGGER, "admin");
        assertEquals(RunOutcome.PLANNED, r.outcome());
        assertEquals(List.of(SEED_ARGS + " --exclude app-editors/demo-edit --exclude net-misc/demo-daemon"
                + " --usepkgonly --binpkg-respect-use=y --binpkg-changed-deps=y --pretend --verbose"), s.calls());
    }

    @Test
    void run_usepkgonly_planNamesThePackagesEmergeDropsForWantOfAUsableBinary_andWhy() {
        StandIn s = new StandIn(tmp).portage("slave-mixed",
                UsepkgOnlyTest.RECORDS.resolve("01-mixed-jobs2-cli/Packages"));
        s.scenarioKeys.put("PRETEND", UsepkgOnlyTest.RECORDS.resolve("09-mixed-usepkgonly-respect-pretend")
                .resolve("output.rc0.txt").toAbsolutePath().toString());
        s.config.put("binhost.update.binaries-only", "usepkgonly");
        s.config.put("binhost.update.mode", "notify-only");
        RunRecord r = s.runner().run(UpdateRunner.Reason.TRIGGER, "admin");
        assertEquals(RunOutcome.PLANNED, r.outcome(), r.message());
        assertEquals(List.of(SEED_ARGS + " --usepkgonly --binpkg-respect-use=y --binpkg-changed-deps=y"
                + " --pretend --verbose"), s.calls());
        assertEquals(3, r.plan().binaries());
        String dropped = r.plan().problems().stream().filter(l -> l.startsWith("not installed, no usable binary"))
                .findFirst().orElseThrow(() -> new AssertionError(r.plan().problems()));
        assertTrue(dropped.contains(": app-editors/demo-edit (USE differs: binary app-editors/demo-edit-0.9-1 has X"
                + " gtk, this machine wants -X -gtk); app-misc/demo-cli (needs dev-libs/libdemo: "), dropped);
        assertTrue(dropped.endsWith("; net-misc/demo-daemon (USE differs: binary net-misc/demo-daemon-1.5-1 has"
                + " systemd, this machine wants -systemd)"), dropped);
    }

    @Test
    void run_usepkgonlyApplied_partial_theDroppedPackagesNotInstalledWithWhy_andNotified() throws Exception {
        StandIn s = new StandIn(tmp).portage("slave-mixed",
                UsepkgOnlyTest.RECORDS.resolve("01-mixed-jobs2-cli/Packages"));
        s.recorded("029-", Recorded.of("10-"));
        s.scenarioKeys.put("PRETEND", Recorded.of("09-").output().toString());
        s.config.put("binhost.update.binaries-only", "usepkgonly");
        Path out = tmp.resolve("notified.json");
        s.config.put("binhost.update.notify-command", "/bin/sh,-c,cat > " + out);
        UpdateRunner runner = s.runner();
        RunRecord r = runner.run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.PARTIAL, r.outcome(), r.message());
        assertEquals(3, r.installedBinary());
        assertEquals(List.of("app-editors/demo-edit", "app-misc/demo-cli", "net-misc/demo-daemon"),
                r.merge().notInstalled().stream().map(RunRecord.Missing::cpv).toList());
        assertTrue(r.merge().notInstalled().get(0).why().startsWith("no usable binary on the master (binaries only): "
                + "USE differs"), r.merge().notInstalled().get(0).why());
        assertEquals(3, runner.pending());
        assertTrue(Files.readString(out).contains("\"outcome\":\"partial\""), "partial is notified under notify-on=failure");
    }

    @Test
    void run_newPackageTheMasterNeverBuilt_historySaysNoBinary_fromTheMastersIndex() {
        StandIn s = new StandIn(tmp).fixtures("089-", "091-")
                .portage("slave", Fixtures.DIR.resolve("Packages.after-master-initial"));
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals(List.of(new RunRecord.Compiled("app-misc/demo-successor-1.0", "no-binary",
                "no binary of app-misc/demo-successor-1.0 on the master (none of app-misc/demo-successor)")),
                r.plan().compiledPackages());
        assertEquals(r, s.runner().history().last().orElseThrow());
    }

    @Test
    void run_withoutTheMastersIndex_keepsEmergesReasons_andTheHistorySaysWhy() {
        StandIn s = new StandIn(tmp).fixtures("089-", "091-").portage("slave", null);
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals("no-usable-binaries", r.plan().compiledPackages().get(0).reason());
        assertEquals(List.of("reasons from emerge's output only: the master's index was not used: "
                + tmp.resolve("binpkgs/Packages") + ": no such file"), r.plan().problems());
    }

    @Test
    void run_chostSlave_withTheMastersIndex_eachReasonNamesBothChosts() {
        StandIn s = new StandIn(tmp).fixtures("039-", null)
                .portage("slave-chost", Fixtures.DIR.resolve("Packages.after-master-initial"));
        s.config.put("binhost.update.binaries-only", "refuse");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.REFUSED, r.outcome());
        assertEquals(11, r.plan().compiledPackages().size());
        for (RunRecord.Compiled c : r.plan().compiledPackages()) {
            assertEquals("chost-differs", c.reason(), c.cpv());
            assertEquals("CHOST differs: binary x86_64-pc-linux-gnu, this machine ACCEPT_CHOSTS "
                    + "x86_64-gentoo-linux-musl", c.detail());
        }
        assertTrue(r.message().contains("app-misc/demo-cli-2.0 (CHOST differs: binary x86_64-pc-linux-gnu"),
                r.message());
    }

    @Test
    void run_failingBuild_recordsFailedPackagePhaseAndExitCode() {
        StandIn s = new StandIn(tmp).fixtures("041-", "043-");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.FAILED, r.outcome());
        assertEquals("app-misc/demo-broken-1.0", r.failedPackage());
        assertEquals("compile", r.failedPhase());
        assertEquals(1, r.exitCode());
        assertEquals(5, r.installedBinary());
        assertEquals(1, s.counter("binhost.update.runs", "outcome", "failed"));
    }

    @Test
    void run_hardBlockerInPlan_planFailedAndNoRealRun() {
        StandIn s = new StandIn(tmp).fixtures("057-", "059-");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.PLAN_FAILED, r.outcome());
        assertTrue(r.message().contains("exited 1"), r.message());
        assertEquals(1, s.calls().size());
    }

    @Test
    void run_emergeHangsPastDeadline_killedAndRecordedAsTimedOutWithThePackage() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("030-", "035-");
        s.scenarioKeys.put("HANG_AFTER", "85");
        s.config.put("binhost.update.run-deadline", "2s");
        UpdateRunner runner = s.runner();
        CompletableFuture<RunRecord> f = CompletableFuture.supplyAsync(() -> runner.run(UpdateRunner.Reason.SCHEDULE,
                "schedule"));
        long pid = waitForMarkerPid(tmp.resolve("state/current-run.json"));
        RunRecord r = f.get();
        assertEquals(RunOutcome.TIMED_OUT, r.outcome());
        assertEquals("dev-libs/libdemo-1.2.3", r.failedPackage(), r.message());
        assertEquals(6, r.installedBinary());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "stand-in killed");
    }

    @Test
    void run_emergeDiesHalfWay_failedWithItsExitCodeAndThePackageInProgress() {
        StandIn s = new StandIn(tmp).fixtures("030-", "035-");
        s.scenarioKeys.put("DIE_AFTER", "125");
        s.scenarioKeys.put("DIE_RC", "137");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.FAILED, r.outcome());
        assertEquals(137, r.exitCode());
        assertEquals("app-editors/demo-edit-0.9", r.failedPackage(), r.message());
        assertEquals(6, r.installedBinary());
        assertEquals(1, r.installedCompiled());
    }

    @Test
    void run_whileRunning_progressVisibleInCurrent() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        s.scenarioKeys.put("LINE_DELAY", "0.02");
        UpdateRunner runner = s.runner();
        CompletableFuture<RunRecord> f = CompletableFuture.supplyAsync(() -> runner.run(UpdateRunner.Reason.TRIGGER,
                "t"));
        EmergeProgress.Snapshot seen = null;
        while (!f.isDone()) {
            var c = runner.current();
            if (c.isPresent() && c.get().phase() == RunPhase.APPLY && c.get().progress().snapshot().index() > 2) {
                seen = c.get().progress().snapshot();
                break;
            }
            Thread.sleep(20);
        }
        assertNotNull(seen, "progress seen while emerge ran");
        assertEquals(11, seen.total());
        assertEquals(RunOutcome.SUCCESS, f.get().outcome());
        assertTrue(runner.current().isEmpty());
    }

    @Test
    void run_preconditionsBlock_eachBlockingOneNamed_andNoEmergeStarted() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        Path other = s.proc.resolve("4242");
        Files.createDirectories(other);
        Files.write(other.resolve("cmdline"), "/usr/bin/python3.12\0/usr/lib/python-exec/python3.12/emerge\0-uDN\0"
                .getBytes());
        Path bat = s.power.resolve("BAT0");
        Files.createDirectories(bat);
        Files.writeString(bat.resolve("type"), "Battery\n");
        Path ac = s.power.resolve("AC");
        Files.createDirectories(ac);
        Files.writeString(ac.resolve("type"), "Mains\n");
        Files.writeString(ac.resolve("online"), "0\n");
        Files.writeString(s.proc.resolve("loadavg"), "7.50 3.00 1.00 2/300 999\n");
        s.config.put("binhost.update.max-load", "4");
        RunPrecondition masterDown = new RunPrecondition() {
            public String name() {
                return "master-up";
            }

            public Verdict check() {
                return Verdict.no("master is DOWN");
            }
        };
        RunRecord r = s.runner(List.of(masterDown), Optional.empty()).run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.SKIPPED, r.outcome());
        assertEquals(List.of("master-up", "no-other-emerge", "power", "load"), r.preconditions().stream()
                .filter(c -> !c.ok()).map(RunRecord.Check::name).toList());
        assertTrue(r.message().contains("pid 4242"), r.message());
        assertTrue(s.calls().isEmpty());
        assertNull(r.plan());
    }

    @Test
    void run_onBatteryBinariesOnly_addsUsepkgonly_andConfigRefresherBlocksWhenPullFails() {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        s.config.put("binhost.update.on-battery", "binaries-only");
        try {
            Path bat = s.power.resolve("BAT1");
            Files.createDirectories(bat);
            Files.writeString(bat.resolve("type"), "Battery\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        RunRecord ok = s.runner(List.of(), Optional.of(() -> Verdict.ok("pulled"))).run(UpdateRunner.Reason.TRIGGER,
                "t");
        assertEquals(RunOutcome.SUCCESS, ok.outcome(), ok.message());
        assertTrue(s.calls().get(0).endsWith("--usepkgonly --binpkg-respect-use=y --binpkg-changed-deps=y"
                + " --pretend --verbose"), s.calls().get(0));
        RunRecord blocked = s.runner(List.of(), Optional.of(() -> Verdict.no("rsync exited 10")))
                .run(UpdateRunner.Reason.TRIGGER, "t");
        assertEquals(RunOutcome.SKIPPED, blocked.outcome());
        assertTrue(blocked.message().contains("config-pulled (rsync exited 10)"), blocked.message());
    }

    @Test
    void run_parallelJobs_historyMetricsAndNotifyGivePortagesCounts() throws Exception {
        StandIn s = new StandIn(tmp).recorded("030-", Recorded.of("01-"));
        Path out = tmp.resolve("notified.json");
        s.config.put("binhost.update.notify-command", "/bin/sh,-c,cat > " + out);
        s.config.put("binhost.update.notify-on", "always");
        UpdateRunner runner = s.runner();
        RunRecord r = runner.run(UpdateRunner.Reason.TRIGGER, "test");

        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals("merged 10 packages (7 binary, 3 compiled)", r.message());
        assertEquals(7, r.installedBinary());
        assertEquals(3, r.installedCompiled());
        assertEquals(List.of("dev-libs/libdemo-1.2.3", "app-editors/demo-edit-0.9", "net-misc/demo-daemon-1.5"),
                r.merge().built(), "in the order Portage merged them (COUNTER)");
        assertEquals("records", r.merge().countsFrom());
        assertEquals(7, s.counter("binhost.update.packages", "kind", "binary"));
        assertEquals(3, s.counter("binhost.update.packages", "kind", "compiled"));
        assertEquals(0, runner.pending());
        String json = Files.readString(out);
        assertTrue(json.contains("\"installedBinary\":7,\"installedCompiled\":3"), json);
        assertTrue(json.contains("\"built\":[\"dev-libs/libdemo-1.2.3\""), json);
        assertEquals(List.of(r), runner.history().read());
    }

    @Test
    void run_binariesOnlyFromEmergeDefaultOpts_alsoGetsTheSafetyOptions() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        Files.createDirectories(tmp.resolve("etc/portage"));
        Files.writeString(tmp.resolve("etc/portage/make.conf"), "EMERGE_DEFAULT_OPTS=\"--jobs 2 --usepkgonly\"\n");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals(SEED_ARGS + " --binpkg-respect-use=y --binpkg-changed-deps=y --pretend --verbose", s.calls().get(0));
    }

    @Test
    void run_realRunStoppedByAHardBlocker_failedNamingIt() {
        StandIn s = new StandIn(tmp).fixtures("016-", "059-");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.FAILED, r.outcome(), r.message());
        assertTrue(r.message().startsWith("emerge exited 1: "), r.message());
        assertTrue(r.message().contains("cannot be"), r.message());
        assertEquals(0, r.installedBinary() + r.installedCompiled());
    }

    @Test
    void run_emergeSkipsTheOnlyUpdate_blockedNotNothingToDo_andNoRealRun() {
        StandIn s = new StandIn(tmp);
        s.scenarioKeys.put("PRETEND", Recorded.of("11-").output().toString());
        UpdateRunner runner = s.runner();
        RunRecord r = runner.run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.BLOCKED, r.outcome(), r.message());
        assertTrue(r.message().startsWith("nothing merged; emerge left out updates skipped"), r.message());
        assertTrue(r.message().contains("app-misc/demo-cli"), r.message());
        assertEquals(1, s.calls().size(), "only the plan ran");
        assertEquals(1, runner.pending());
        assertTrue(r.outcome().failure(), "blocked needs the admin's attention");
    }

    @Test
    void run_notifyOnFailure_commandGetsTheSummaryJsonOnStdin() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("041-", "043-");
        Path out = tmp.resolve("notified.json");
        s.config.put("binhost.update.notify-command", "/bin/sh,-c,cat > " + out);
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        String json = Files.readString(out);
        assertTrue(json.contains("\"outcome\":\"failed\""), json);
        assertTrue(json.contains("\"failedPackage\":\"app-misc/demo-broken-1.0\""), json);
        assertTrue(json.contains(r.id()));
    }

    @Test
    void run_notifyOnFailure_notRunAfterSuccess() {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        Path out = tmp.resolve("notified.json");
        s.config.put("binhost.update.notify-command", "/bin/sh,-c,cat > " + out);
        assertEquals(RunOutcome.SUCCESS, s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule").outcome());
        assertFalse(Files.exists(out));
    }

    /** Runs every command but the plan, which throws {@code fault} as a bug in the agent's own code would. */
    private static final class FaultyPlan extends ProcessRunner {
        private final Throwable fault;

        FaultyPlan(Throwable fault) {
            super(new JnrPosix(), Duration.ofSeconds(2), 65536);
            this.fault = fault;
        }

        @Override
        public CommandResult run(Command command) throws IOException, InterruptedException {
            if (command.label().equals("emerge-plan")) {
                if (fault instanceof Error e) {
                    throw e;
                }
                throw (RuntimeException) fault;
            }
            return super.run(command);
        }
    }

    @Test
    void run_planStepThrows_recordedOnceAsErrorNamingIt_countedOnce_notifiedOnce() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        Path notified = tmp.resolve("notified.jsonl");
        s.config.put("binhost.update.notify-command", "/bin/sh,-c,cat >> " + notified);
        UpdateRunner runner = s.runner(List.of(), Optional.empty(),
                new FaultyPlan(new IllegalStateException("parser bug")));

        RunRecord r = runner.run(UpdateRunner.Reason.TRIGGER, "test");

        assertEquals(RunOutcome.ERROR, r.outcome());
        assertTrue(r.message().contains("java.lang.IllegalStateException: parser bug")
                && r.message().contains("plan phase"), r.message());
        assertEquals(List.of(r), runner.history().read(), "one history line");
        assertEquals(1, s.counter("binhost.update.runs", "outcome", "error"));
        List<String> notes = Files.readAllLines(notified);
        assertEquals(1, notes.size(), "notify ran once: " + notes);
        assertTrue(notes.get(0).contains("\"outcome\":\"error\""), notes.get(0));
        assertTrue(runner.current().isEmpty(), "no run shows as running");
        assertFalse(Files.exists(runner.markerFile()), "the marker went with the record");
    }

    @Test
    void run_planStepThrowsAnError_recordedOnce_thenTheErrorGoesOn() throws Exception {
        StandIn s = new StandIn(tmp).fixtures("016-", "020-");
        Path notified = tmp.resolve("notified.jsonl");
        s.config.put("binhost.update.notify-command", "/bin/sh,-c,cat >> " + notified);
        UpdateRunner runner = s.runner(List.of(), Optional.empty(), new FaultyPlan(new StackOverflowError()));

        assertThrows(StackOverflowError.class, () -> runner.run(UpdateRunner.Reason.TRIGGER, "test"));

        List<RunRecord> h = runner.history().read();
        assertEquals(1, h.size());
        assertEquals(RunOutcome.ERROR, h.get(0).outcome());
        assertTrue(h.get(0).message().contains("StackOverflowError"), h.get(0).message());
        assertEquals(1, s.counter("binhost.update.runs", "outcome", "error"));
        assertEquals(1, Files.readAllLines(notified).size());
    }

    @Test
    void attempt_closedTwiceOrEndedTwice_recordsOnce_withTheFirstEnding() throws Exception {
        StandIn s = new StandIn(tmp);
        Path notified = tmp.resolve("notified.jsonl");
        s.config.put("binhost.update.notify-command", "/bin/sh,-c,cat >> " + notified);
        s.config.put("binhost.update.notify-on", "always");
        UpdateRunner runner = s.runner();
        RunAttempt run = runner.begin(UpdateRunner.Reason.TRIGGER, "test");
        assertEquals(run.id(), runner.current().orElseThrow().id());
        try (run) {
            run.end(RunOutcome.NOTHING_TO_DO, "first");
            run.end(RunOutcome.FAILED, "second");
        }
        run.close();
        assertEquals(RunOutcome.NOTHING_TO_DO, run.record().outcome());
        assertEquals(List.of("first"), runner.history().read().stream().map(RunRecord::message).toList());
        assertEquals(1, s.counter("binhost.update.runs", "outcome", "nothing-to-do"));
        assertEquals(0, s.counter("binhost.update.runs", "outcome", "failed"));
        assertEquals(1, Files.readAllLines(notified).size());

        RunAttempt silent = runner.begin(UpdateRunner.Reason.TRIGGER, "test");
        silent.close();
        assertEquals(RunOutcome.ERROR, silent.record().outcome(), "closed without an ending: the agent's bug");
        assertEquals(2, runner.history().read().size());
    }

    static long waitForMarkerPid(Path marker) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (Files.exists(marker)) {
                String m = Files.readString(marker);
                var matcher = java.util.regex.Pattern.compile("\"emergePid\":(\\d+)").matcher(m);
                if (matcher.find()) {
                    return Long.parseLong(matcher.group(1));
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no emerge pid in " + marker);
    }

    @Test
    void run_onePass_mixedSlave_oneEmergeAskedAndAnsweredYes_planAndCountsAsTwoPass() throws Exception {
        StandIn s = new StandIn(tmp).ask("slave-mixed-ask-yes.rc0.txt", "slave-mixed-ask-no.rc130.txt");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals(List.of(SEED_ARGS + " --ask --verbose"), s.calls(), "one emerge, one resolution");
        assertEquals("one-pass", r.resolution());
        assertEquals("apply", r.policy());
        assertEquals(7, r.plan().binaries());
        assertEquals(3, r.plan().compiled());
        assertEquals(List.of("dev-libs/libdemo-1.2.3", "app-editors/demo-edit-0.9", "net-misc/demo-daemon-1.5"),
                r.plan().compiledPackages().stream().map(RunRecord.Compiled::cpv).toList());
        assertTrue(r.plan().compiledPackages().get(1).detail().contains("binary has X gtk"));
        assertEquals(7, r.installedBinary());
        assertEquals(3, r.installedCompiled());
        assertEquals(0, r.exitCode());
        assertEquals(r.log(), r.planLog(), "plan and run in one log");
        String log = Files.readString(Path.of(r.log()));
        assertTrue(log.contains("[Yes/No] Yes\n"));
        assertTrue(log.contains(">>> Completed (10 of 10)"));
        assertEquals(3, s.counter("binhost.update.packages", "kind", "compiled"));
        assertEquals(0, s.registry.find("binhost.update.pending").gauge().value());
        assertEquals("one-pass", s.runner().history().read().get(0).resolution(), "the history keeps it");
    }

    @Test
    void run_onePass_binariesOnlyRefuse_answeredNo_nothingMerged() throws Exception {
        StandIn s = new StandIn(tmp).ask("slave-mixed-ask-yes.rc0.txt", "slave-mixed-ask-no.rc130.txt");
        s.config.put("binhost.update.binaries-only", "refuse");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.REFUSED, r.outcome(), r.message());
        assertEquals("binaries-only", r.policy());
        assertTrue(r.message().contains("3 package(s) would be compiled here"), r.message());
        assertEquals(1, s.calls().size());
        String log = Files.readString(Path.of(r.log()));
        assertTrue(log.contains("[Yes/No] No\n\nQuitting."), log);
        assertFalse(log.contains(">>> Emerging"));
        assertNull(r.installedBinary());
        assertEquals(10, s.registry.find("binhost.update.pending").gauge().value());
    }

    @Test
    void run_onePass_nothingToMerge_nothingToDoWithoutAQuestion() {
        StandIn s = new StandIn(tmp).ask("slave-mixed-ask-nothing.rc0.txt", null);
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.NOTHING_TO_DO, r.outcome(), r.message());
        assertEquals(1, s.calls().size());
        assertEquals("one-pass", r.resolution());
        assertEquals(0, r.plan().packages());
    }

    @Test
    void run_onePass_hardBlocker_planFailedWithItsExitCode_noFallback() {
        StandIn s = new StandIn(tmp).ask("slave-mixed-ask-hard-blocker.rc1.txt", null);
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.PLAN_FAILED, r.outcome(), r.message());
        assertTrue(r.message().startsWith("emerge --ask exited 1 before asking"), r.message());
        assertEquals(1, r.exitCode());
        assertEquals(1, s.calls().size(), "a failed plan is not tried again with --pretend");
    }

    @Test
    void run_onePass_emergeRefusesAsk_fallsBackToPretendThenRun_andTheRecordSaysWhy() throws Exception {
        StandIn s = new StandIn(tmp).ask("slave-mixed-ask-yes.rc0.txt", null).fixtures("030-", "035-");
        Path wrapper = tmp.resolve("no-tty.sh");
        Files.writeString(wrapper, "#!/bin/bash\nexec \"$@\" < /dev/null\n");
        Files.setPosixFilePermissions(wrapper, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        s.config.put("binhost.update.emerge-command", wrapper + "," + StandIn.SCRIPT + "," + s.scenario);
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals(List.of(SEED_ARGS + " --ask --verbose", SEED_ARGS + " --pretend --verbose", SEED_ARGS),
                s.calls());
        assertEquals("pretend-then-run (one-pass failed: emerge refused --ask: its stdin was not a terminal)",
                r.resolution());
        assertEquals(7, r.installedBinary());
        assertEquals(3, r.installedCompiled());
        assertTrue(r.planLog().endsWith("-plan.log"));
        assertTrue(Files.readString(tmp.resolve("log").resolve(r.id() + "-ask-failed.log"))
                .contains("\"--ask\" should only be used in a terminal"));
        assertFalse(Files.readString(Path.of(r.log())).contains("--ask"), "the run's log is the second run's own");
    }

    @Test
    void run_pretendThenRun_recordsItsResolution() {
        StandIn s = new StandIn(tmp).fixtures("030-", "035-");
        RunRecord r = s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals("pretend-then-run", r.resolution());
    }
}
