package dev.binhost.agent.emerge;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a run merged, judged from Portage's records of real runs (fixtures/records): the counts must be Portage's
 * own, whatever the terminal output's shape (--jobs interleaves it).
 */
class MergeReportTest {
    @TempDir
    Path eroot;

    private MergeReport replay(Recorded rec, EmergePlan plan) {
        return rec.report(eroot, plan);
    }

    /** Runs the stand-in emerge on a recorded run: it writes that run's emerge.log lines and vdb entries. */
    private void standIn(Fixtures.Entry merge, Path sessionLog) {
        try {
            Path scenario = eroot.resolveSibling(eroot.getFileName() + "-scenario.sh");
            Files.writeString(scenario, "MERGE='" + Fixtures.DIR.resolve(merge.file()) + "'\nEROOT='" + eroot
                    + "'\nMERGE_LOG='" + sessionLog + "'\n");
            Process p = new ProcessBuilder("bash", StandIn.SCRIPT.toString(), scenario.toString(), "--usepkg", "@world")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
            assertEquals(merge.exitCode(), p.waitFor());
            Files.delete(scenario);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"01-", "02-", "03-", "31-", "32-", "33-", "20-", "22-", "23-", "24-", "25-"})
    void optionsAdminsUse_jobsQuietVerboseColor_countsArePortagesOwn_sevenBinaryThreeBuilt(String prefix) {
        Recorded rec = Recorded.of(prefix);
        // the approved plan: the pretend run of the same host and state
        EmergePlan plan = EmergePlan.parse(Fixtures.entry("029-").text());
        MergeReport r = replay(rec, plan);

        // Portage's truth, read independently: on this slave (no buildpkg) a binpkg merge has BINPKGMD5
        List<String> binary = rec.afterEntriesWith("BINPKGMD5", true);
        List<String> built = rec.afterEntriesWith("BINPKGMD5", false);
        assertEquals(7, binary.size());
        assertEquals(3, built.size());
        assertEquals(binary, r.installed().stream().filter(MergeReport.Installed::binary)
                .map(MergeReport.Installed::cpv).sorted().toList());
        assertEquals(built, r.installed().stream().filter(i -> !i.binary())
                .map(MergeReport.Installed::cpv).sorted().toList());
        assertEquals(MergeReport.Result.SUCCESS, r.result(), r.message());
        assertEquals("merged 10 packages (7 binary, 3 compiled)", r.message());
        assertEquals("records", r.source());
        assertEquals(0, r.pending());
    }

    @Test
    void parallelJobs_theTerminalTrackerAloneGetsItWrong_whichIsWhyRecordsDecide() {
        EmergeProgress.Snapshot terminal = EmergeProgress.of(Recorded.of("01-").outputText());
        assertTrue(terminal.completed() != 10 || terminal.completedBinary() != 7,
                "if the terminal tracker counted interleaved jobs right, this test would be moot: " + terminal);
    }

    @Test
    void failedBuild_namesThePackageAndPhase_andWhatWasNotReached() {
        // the real failing run: its output and the emerge.log session it wrote; no vdb was recorded, so the vdb
        // entries are those Portage writes for the completed merges (what the stand-in does too)
        Fixtures.Entry e = Fixtures.entry("042-");
        EmergePlan plan = EmergePlan.parse(Fixtures.entry("040-").text());
        PortageRecords records = new PortageRecords(eroot);
        UpdateRunner.RecordsMark mark = records.mark();
        standIn(e, Fixtures.sessionLog(e).orElseThrow());
        MergeReport r = records.report(MergeReport.Expected.fromPlan(plan.packages()), plan, mark,
                EmergeProgress.of(e.text()), 1, false);

        assertEquals(MergeReport.Result.FAILED, r.result());
        assertEquals(List.of("app-misc/demo-broken-1.0"), r.failed());
        assertEquals("compile", r.failedPhase().orElseThrow());
        assertEquals(5, r.installedBinary());
        assertEquals(0, r.installedCompiled());
        assertEquals(plan.installCount() - 5, r.notInstalled().size());
        assertEquals("failed in the compile phase", r.notInstalled().get(0).why());
        assertTrue(r.notInstalled().get(1).why().startsWith("not reached: emerge stopped after app-misc/demo-broken-1.0"),
                r.notInstalled().get(1).why());
        assertTrue(r.message().startsWith("app-misc/demo-broken-1.0 failed in the compile phase (exit 1) after merged 5 of "),
                r.message());
        List<String> excerpt = records.errorExcerpt(r, e.text());
        assertEquals("make: *** [Makefile:9: demo-broken] Error 1", excerpt.get(excerpt.size() - 3));
        assertEquals("* ERROR: app-misc/demo-broken-1.0::gentoo failed (compile phase):", excerpt.get(excerpt.size() - 2).strip());
        assertEquals("*   emake failed", excerpt.get(excerpt.size() - 1).strip());
        assertTrue(excerpt.stream().anyMatch(l -> l.contains("error:") && l.contains("undeclared")), excerpt.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"04-", "05-"})
    void keepGoing_afterAFailure_partial_tenMergedTheFailedOneNamed_noNumberingConfusion(String prefix) {
        Recorded rec = Recorded.of(prefix);
        EmergePlan plan = EmergePlan.parse(Fixtures.entry("040-").text());
        MergeReport r = replay(rec, plan);

        assertEquals(MergeReport.Result.PARTIAL, r.result(), r.message());
        assertEquals(rec.afterEntriesWith("BINPKGMD5", true).size(), r.installedBinary());
        assertEquals(10, r.installedBinary());
        assertEquals(0, r.installedCompiled());
        assertEquals(List.of("app-misc/demo-broken-1.0"), r.failed());
        // with --jobs the build's output is only in its build log, which this record set does not hold
        String phase = prefix.equals("04-") ? " in the compile phase" : "";
        assertEquals(List.of(new MergeReport.NotInstalled("app-misc/demo-broken-1.0", "failed" + phase)),
                r.notInstalled());
        assertEquals(1, r.pending());
        assertEquals("app-misc/demo-broken-1.0 failed" + phase + " (exit 1), emerge kept going; merged 10 of 11"
                + " packages (10 binary, 0 compiled); not installed: app-misc/demo-broken-1.0 (failed" + phase + ")",
                r.message());
    }

    @Test
    void keepGoingWithJobs_thePhaseComesFromTheFailedBuildsLog() throws Exception {
        Recorded rec = Recorded.of("05-");
        // Portage keeps a failed build's log; its lines are what the terminal shows without --jobs (fixture 042)
        Path buildLog = eroot.resolve("var/tmp/portage/app-misc/demo-broken-1.0/temp/build.log");
        Files.createDirectories(buildLog.getParent());
        Files.writeString(buildLog, Fixtures.entry("042-").text());
        MergeReport r = replay(rec, EmergePlan.parse(Fixtures.entry("040-").text()));
        assertEquals("compile", r.failedPhase().orElseThrow(), r.message());
        assertEquals("failed in the compile phase", r.notInstalled().get(0).why());
    }

    @Test
    void failureWithoutKeepGoing_failed_andTheResumeListIsWhatIsPending() {
        Recorded rec = Recorded.of("06-");
        EmergePlan plan = EmergePlan.parse(Fixtures.entry("040-").text());
        MergeReport r = replay(rec, plan);

        assertEquals(MergeReport.Result.FAILED, r.result(), r.message());
        assertEquals(5, r.installedBinary());
        assertEquals(List.of("app-misc/demo-broken-1.0", "app-misc/demo-overlay-tool-0.1", "dev-libs/libdemo-1.2.3",
                "app-editors/demo-edit-0.9", "app-misc/demo-cli-2.0", "net-misc/demo-daemon-1.5"), r.resumeLeft());
        assertEquals(6, r.pending());
        assertEquals(6, r.notInstalled().size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"12-", "14-", "16-", "18-"})
    void updatesEmergeSkipsWithExitZero_blocked_namingWhat(String prefix) {
        Recorded rec = Recorded.of(prefix);
        EmergePlan plan = EmergePlan.parse(rec.outputText());
        MergeReport r = replay(rec, plan);
        assertEquals(0, rec.exitCode());
        assertEquals(MergeReport.Result.BLOCKED, r.result(), r.message());
        assertTrue(r.blockedBy().stream().anyMatch(b -> b.startsWith("updates skipped")), r.blockedBy().toString());
        assertTrue(r.message().contains("app-misc/demo-cli"), r.message());
        assertEquals(0, r.installed().size());
    }

    @Test
    void updateSkippedForADependencyThatExistsNowhere_theMessageNamesThatDependency_pendingCountsTheUpdateOnly() {
        // found running the agent against the harness's real emerge (HarnessTableTest, scenario 8): the message
        // ended "no ebuilds to satisfy" without naming what, as emerge names it on the headline in quotes
        Recorded rec = Recorded.of("12-");
        EmergePlan plan = EmergePlan.parse(rec.outputText());
        MergeReport r = replay(rec, plan);
        assertTrue(r.blockedBy().contains("no ebuilds to satisfy: dev-libs/demo-vanished"), r.blockedBy().toString());
        assertTrue(r.message().contains("dev-libs/demo-vanished"), r.message());
        assertEquals(1, MergeReport.blockedCount(plan), "one update left out: app-misc/demo-cli");
        // emerge names the masked dependency the same way
        EmergePlan masked = EmergePlan.parse(Recorded.of("14-").outputText());
        assertTrue(MergeReport.blockers(masked).stream().anyMatch(b -> b.endsWith(": >=dev-libs/libdemo-1.3.0")),
                MergeReport.blockers(masked).toString());
        assertEquals(1, MergeReport.blockedCount(masked));
    }

    @Test
    void binariesOnly_packagesWithoutAUsableBinaryAreDropped_partial_eachNamedWithWhy() {
        Recorded rec = Recorded.of("10-");
        EmergePlan plan = EmergePlan.parse(Recorded.of("09-").outputText());
        MergeReport r = replay(rec, plan);
        assertEquals(MergeReport.Result.PARTIAL, r.result(), r.message());
        assertEquals(rec.afterEntriesWith("BINPKGMD5", true).size(), r.installedBinary());
        assertEquals(0, r.installedCompiled());
        assertEquals(List.of("app-editors/demo-edit", "app-misc/demo-cli", "net-misc/demo-daemon"),
                r.notInstalled().stream().map(MergeReport.NotInstalled::cpv).toList());
        assertTrue(r.notInstalled().stream().allMatch(n -> n.why().equals("no usable binary on the master (binaries only)")),
                "without the master's index the reason stays general");
        assertEquals(List.of(), r.blockedBy());
    }

    @Test
    void afterAnUpdate_theNoticesForTheAdmin_fromWhatEmergePrintedAndRecorded() throws Exception {
        Recorded rec = Recorded.of("30-");
        MergeReport r = replay(rec, EmergePlan.parse(Recorded.of("29-").outputText()));
        assertEquals(MergeReport.Result.SUCCESS, r.result(), r.message());
        // what Portage left on the host after that run
        Path registry = eroot.resolve("var/lib/portage/preserved_libs_registry");
        Files.createDirectories(registry.getParent());
        Files.copy(rec.dir().resolve("preserved_libs_registry"), registry);
        Path news = eroot.resolve("var/lib/gentoo/news/news-gentoo.unread");
        Files.createDirectories(news.getParent());
        Files.copy(rec.dir().resolve("news-gentoo.unread"), news);

        assertEquals(List.of("1 config file needs updating: /etc/demo-daemon.conf",
                "preserved libraries kept for 1 package; run emerge @preserved-rebuild", "1 unread news item"),
                new PortageRecords(eroot).notices(rec.outputText()));
        assertEquals(List.of(), new PortageRecords(eroot.resolve("none")).notices(Recorded.of("01-").outputText()),
                "a run that left nothing to look after");
    }

    @Test
    void noRecords_fallsBackToTheTerminal_andSaysSo() throws Exception {
        Files.createDirectories(eroot.resolve("var/db"));
        Files.writeString(eroot.resolve("var/db/pkg"), "not a directory");
        EmergePlan plan = EmergePlan.parse(Fixtures.entry("029-").text());
        MergeReport r = new PortageRecords(eroot).report(MergeReport.Expected.fromPlan(plan.packages()), plan,
                new UpdateRunner.RecordsMark(0, 0L), EmergeProgress.of(Fixtures.entry("034-").text()), 0, false);
        assertEquals("terminal output (no record of this run could be read)", r.source());
        assertEquals(7, r.installedBinary());
        assertEquals(3, r.installedCompiled());
    }
}
