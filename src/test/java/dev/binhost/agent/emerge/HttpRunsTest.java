package dev.binhost.agent.emerge;

import dev.binhost.agent.binhost.Binhost;
import dev.binhost.agent.binhost.PackagesConfig;
import dev.binhost.agent.config.AgentConfigs;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Update runs of an HTTP binhost slave, replaying the real Portage's runs against the signed harness binhost
 * (records 60-67): the emerge calls get --getbinpkg, and the faults end in clear outcomes.
 */
class HttpRunsTest {
    private static final String HTTP_ARGS = "--usepkg --update --deep --changed-use --with-bdeps y --getbinpkg @world";

    @TempDir
    Path tmp;

    private UpdateRunner runner(StandIn s) {
        return runner(s, "fail");
    }

    private UpdateRunner runner(StandIn s, String onBadBinary) {
        PackagesConfig c = AgentConfigs.of(Map.of("binhost.master.host", "127.0.0.1", "binhost.packages.transport",
                "http", "binhost.packages.url", "http://127.0.0.1:18090", "binhost.packages.binrepos",
                tmp.resolve("binrepos.conf").toString(), "binhost.packages.on-bad-binary", onBadBinary))
                .getConfigMapping(PackagesConfig.class);
        UpdateRunner runner = s.runner();
        runner.binhost(new Binhost(c, tmp.resolve("state"), Duration.ofSeconds(1), Duration.ofSeconds(1),
                Clock.systemUTC()));
        return runner;
    }

    private StandIn replaying(String pretend, String run) {
        StandIn s = new StandIn(tmp);
        if (run != null) {
            s.recorded(null, Recorded.of(run));
        }
        s.scenarioKeys.put("PRETEND", Recorded.of(pretend).output().toString());
        return s;
    }

    @Test
    void signedBinhost_elevenBinariesFetchedAndVerified_success() throws Exception {
        StandIn s = replaying("60-", "61-");
        RunRecord r = runner(s).run(UpdateRunner.Reason.TRIGGER, "test");
        assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
        assertEquals(List.of(HTTP_ARGS + " --pretend --verbose", HTTP_ARGS), s.calls());
        assertEquals(11, r.plan().fetched(), "all eleven binaries come from the binhost (g)");
        assertEquals(11, r.installedBinary());
        assertEquals(0, r.installedCompiled());
    }

    @Test
    void binhostDownWhilePlanning_notRun_insteadOfBuildingEverythingHere() throws Exception {
        // the real emerge, binhost down, exits 0 with a plan that builds all eleven packages here (record 63)
        StandIn s = replaying("63-", null);
        RunRecord r = runner(s).run(UpdateRunner.Reason.TRIGGER, "test");
        assertEquals(RunOutcome.PLAN_FAILED, r.outcome(), r.message());
        assertEquals(List.of(HTTP_ARGS + " --pretend --verbose"), s.calls(), "no merge was started");
        assertEquals("the binhost did not answer while emerge planned ([binhost-agent] http://127.0.0.1:18090:"
                + " <urlopen error [Errno 111] Connection refused>); not run, since emerge would build 11 packages"
                + " here instead of fetching them; the next run tries again", r.message());
        assertEquals(0, r.exitCode());
    }

    @Test
    void untrustedKey_runFails_namingThePackageAndGnupgsSummary() throws Exception {
        StandIn s = replaying("60-", "65-");
        RunRecord r = runner(s).run(UpdateRunner.Reason.TRIGGER, "test");
        assertEquals(RunOutcome.FAILED, r.outcome(), r.message());
        assertEquals("sys-apps/demo-baselayout-2.14", r.failedPackage());
        assertEquals(EmergeProgress.SIGNATURE_CHECK, r.failedPhase());
        assertTrue(r.message().contains("(binpkg signed with at least one unknown key)"), r.message());
        assertEquals(0, r.installedBinary());
    }

    @Test
    void binaryWithWrongSize_runFails_afterNineBinaries_namingItAndBothSizes() throws Exception {
        StandIn s = replaying("60-", "66-");
        RunRecord r = runner(s).run(UpdateRunner.Reason.TRIGGER, "test");
        assertEquals(RunOutcome.FAILED, r.outcome(), r.message());
        assertEquals("app-misc/demo-cli-2.0", r.failedPackage());
        assertEquals(EmergeProgress.DIGEST_CHECK, r.failedPhase());
        assertTrue(r.message().contains("got 20487, expected 20480"), r.message());
        assertEquals(9, r.installedBinary());
        assertEquals(1, s.counter("binhost.update.bad.binaries", "check", "digest"));
        assertEquals(0, s.counter("binhost.update.bad.binaries", "check", "signature"));
    }

    @Test
    void buildLocally_afterTheSizeMismatch_oneRunFollows_buildingThatPackageHere_fetchingTheRest() throws Exception {
        StandIn s = replaying("60-", "66-");
        s.scenarioScript.append("""
                R=%s
                use() {
                  MERGE=$(ls "$R/$1"/output.rc*.txt); MERGE_LOG=$R/$1/emerge.log; VDB_AFTER=$R/$1/vdb-after
                  MTIMEDB=$R/$1/mtimedb
                }
                choose() {
                  case "$*" in
                    *--usepkg-exclude*--pretend*) PRETEND=$R/72-http-build-here-pretend/output.rc0.txt ;;
                    *--usepkg-exclude*) use 73-http-build-here ;;
                    *--pretend*) PRETEND=$R/60-http-pretend/output.rc0.txt ;;
                    *) use 66-http-size-mismatch ;;
                  esac
                }
                """.formatted(Recorded.DIR));
        List<RunRecord> runs = runner(s, "build-locally").runAll(UpdateRunner.Reason.TRIGGER, "test");
        String exclude = HTTP_ARGS + " --usepkg-exclude app-misc/demo-cli";
        assertEquals(List.of(HTTP_ARGS + " --pretend --verbose", HTTP_ARGS, exclude + " --pretend --verbose",
                exclude), s.calls());
        assertEquals(2, runs.size());
        assertEquals(RunOutcome.FAILED, runs.get(0).outcome());
        assertEquals(EmergeProgress.DIGEST_CHECK, runs.get(0).failedPhase());
        RunRecord here = runs.get(1);
        assertEquals(RunOutcome.SUCCESS, here.outcome(), here.message());
        assertEquals(UpdateRunner.BUILD_HERE + "app-misc/demo-cli", here.target());
        assertEquals(runs.get(0).id(), here.follows());
        assertEquals(1, here.installedCompiled(), "demo-cli built here");
        assertEquals(1, here.installedBinary(), "demo-daemon still fetched");
        assertEquals(1, here.plan().fetched());
        assertEquals(1, here.plan().compiled());
    }

    @Test
    void policyFail_theBadBinaryEndsIt_noRunFollows() throws Exception {
        StandIn s = replaying("60-", "66-");
        List<RunRecord> runs = runner(s, "fail").runAll(UpdateRunner.Reason.TRIGGER, "test");
        assertEquals(1, runs.size());
        assertEquals(RunOutcome.FAILED, runs.get(0).outcome());
    }
}
