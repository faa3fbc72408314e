package dev.binhost.agent.emerge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.binhost.agent.followup.FollowUp;
import dev.binhost.agent.followup.FollowUpFixtures;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The update after a release that bumps Portage and a library's soname, as the real Portage did it on the
 * harness slave (fixtures/records 42–47, fixtures/followup 01–04): Portage alone first, then the rest of @world,
 * then @preserved-rebuild because the rest left a preserved library; each run recorded with what it left.
 */
class FollowUpRunsTest {
    private static final String WORLD = "--usepkg --update --deep --changed-use --with-bdeps y @world";
    /** Which recorded run each emerge call is, and what that run left on disk (only what changed). */
    private static final String CHOOSE = """
            now() { head -n1 "$CASE_FILE"; }
            lay() {
              local src=$F/$1/root f
              while IFS= read -r f; do
                cmp -s "$src/$f" "$EROOT/$f" || { mkdir -p "$(dirname "$EROOT/$f")"; cp "$src/$f" "$EROOT/$f"; }
              done < <(cd "$src" && find . -type f)
              echo "$1" > "$CASE_FILE"
            }
            use() {
              MERGE=$(ls "$R/$1"/output.rc*.txt); MERGE_LOG=$R/$1/emerge.log; VDB_AFTER=$R/$1/vdb-after
              MTIMEDB=$R/$1/mtimedb
            }
            choose() {
              case "$*" in
                *--depclean*) DEPCLEAN=$F/$(now)/depclean.rc0.txt ;;
                *@preserved-rebuild*--pretend*) PRETEND=$R/46-slave-preserved-rebuild-pretend/output.rc0.txt ;;
                *@preserved-rebuild*) use 47-slave-preserved-rebuild; lay 04-after-preserved-rebuild ;;
                *"--oneshot sys-apps/portage"*) use 43-slave-portage-first; lay 02-after-portage-first ;;
                *@world*--pretend*)
                  if [ "$(now)" = 02-after-portage-first ]; then PRETEND=$R/44-slave-update-rest-pretend/output.rc0.txt
                  else PRETEND=$R/42-slave-portage-first-plan-pretend/output.rc0.txt; fi ;;
                *@world*|--resume*) use 45-slave-update-rest; lay 03-after-update ;;
                *) echo "no recording of emerge $*" >&2; exit 3 ;;
              esac
            }
            """;

    @TempDir
    Path tmp;
    StandIn s;
    Path notified;
    Path caseFile;

    @BeforeEach
    void slaveBeforeTheUpdate() throws Exception {
        s = new StandIn(tmp);
        Recorded.of("42-").before(s.eroot);
        // the host as it was before: its files older than any run of the test
        FollowUpFixtures.lay("01-orphan", s.eroot, Instant.now().minusSeconds(86400));
        caseFile = Files.writeString(tmp.resolve("case"), "01-orphan\n");
        s.scenarioKeys.put("R", Recorded.DIR.toString());
        s.scenarioKeys.put("F", FollowUpFixtures.DIR.toString());
        s.scenarioKeys.put("CASE_FILE", caseFile.toString());
        s.scenarioScript.append(CHOOSE);
        s.config.put("binhost.update.make-conf", s.eroot.resolve("etc/portage/make.conf").toString());
        notified = tmp.resolve("notified.jsonl");
        s.config.put("binhost.update.notify-command", "sh,-c,cat >> " + notified);
        s.config.put("binhost.update.notify-on", "always");
    }

    @Test
    void portageFirst_thenTheRest_thenPreservedRebuild_eachRecordedWithWhatItLeft() throws Exception {
        List<RunRecord> runs = s.runnerWithFollowUps(FollowUpFixtures.keys(caseFile, null))
                .runAll(UpdateRunner.Reason.SCHEDULE, "schedule");

        assertEquals(List.of(WORLD + " --pretend --verbose",
                "--usepkg --update --deep --changed-use --with-bdeps y --oneshot sys-apps/portage",
                "--pretend --depclean",
                WORLD + " --pretend --verbose", WORLD, "--pretend --depclean",
                "--usepkg @preserved-rebuild --pretend --verbose", "--usepkg @preserved-rebuild", "--pretend --depclean"),
                s.calls());
        assertEquals(3, runs.size(), runs.toString());

        RunRecord portage = runs.get(0);
        assertEquals(RunOutcome.SUCCESS, portage.outcome(), portage.message());
        assertEquals("sys-apps/portage", portage.target());
        assertEquals(List.of("sys-apps/portage-3.0.83"), portage.merge().binary());
        assertTrue(portage.message().startsWith("Portage alone first"), portage.message());
        assertEquals(List.of("ERROR sys-apps/portage-3.0.83 (postinst): "
                + portage.followUp().elog().items().get(0).split("\\(postinst\\): ", 2)[1]), portage.followUp().elog().items());
        assertEquals(0, portage.followUp().portage().count(), "the run installed the Portage its plan had");
        assertEquals(0, portage.followUp().preservedLibs().count());

        RunRecord rest = runs.get(1);
        assertEquals(RunOutcome.SUCCESS, rest.outcome(), rest.message());
        assertNull(rest.target());
        assertEquals(portage.id(), rest.follows());
        // as emerge.log of record 45 says: the three other packages from the master's binaries
        assertEquals(List.of("dev-libs/libdemo-1.3.0", "app-misc/demo-cli-2.0", "net-misc/demo-daemon-1.6"),
                rest.merge().binary());
        FollowUp left = rest.followUp();
        assertEquals(List.of("/usr/lib64/libdemo.so.1 (dev-libs/libdemo-1.3.0)"), left.preservedLibs().items());
        assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf"), left.configFiles().items());
        assertEquals(List.of("gentoo: 2026-12-02-demo-daemon-config"), left.news().items());
        assertEquals(List.of("202611-01"), left.glsa().items());
        assertEquals(List.of("app-misc/demo-legacy-1.0"), left.orphans().items());
        assertEquals(1, left.elog().count(), left.elog().toString());
        assertTrue(left.elog().items().get(0).startsWith("WARN net-misc/demo-daemon-1.6 (postinst)"), left.elog().toString());

        RunRecord rebuild = runs.get(2);
        assertEquals(RunOutcome.SUCCESS, rebuild.outcome(), rebuild.message());
        assertEquals("@preserved-rebuild", rebuild.target());
        assertEquals(rest.id(), rebuild.follows());
        assertEquals("schedule", rebuild.reason());
        assertEquals(List.of("app-editors/demo-edit-0.9"), rebuild.merge().binary(), "the consumer of libdemo.so.1");
        assertEquals(0, rebuild.followUp().preservedLibs().count(), "the rebuild left none");
        assertEquals(1, rebuild.followUp().configFiles().count(), "config files stay until the admin merges them");
        assertEquals(0, rebuild.followUp().elog().count(), rebuild.followUp().elog().toString());

        // the history and the notify command have every run with its followUp section
        List<RunRecord> history = s.runnerWithFollowUps(Map.of()).history().read();
        assertEquals(runs.stream().map(RunRecord::id).toList(), history.stream().map(RunRecord::id).toList());
        assertEquals(left, history.get(1).followUp());
        List<String> lines = Files.readAllLines(notified);
        assertEquals(3, lines.size());
        JsonNode n = new ObjectMapper().readTree(lines.get(1));
        assertEquals("ok", n.at("/followUp/preservedLibs/status").asText());
        assertEquals(1, n.at("/followUp/preservedLibs/count").asInt());
        assertEquals("/etc/._cfg0000_demo-daemon.conf", n.at("/followUp/configFiles/items/0").asText());
        assertEquals(portage.id(), n.at("/follows").asText());
        assertEquals("@preserved-rebuild", new ObjectMapper().readTree(lines.get(2)).at("/target").asText());

        // the gauges show what the last run left
        assertEquals(0.0, gauge("preserved-libs"));
        assertEquals(1.0, gauge("config-files"));
        assertEquals(1.0, gauge("glsa"));
        assertEquals(1.0, gauge("news"));
        assertEquals(1.0, gauge("orphans"));
    }

    @Test
    void preservedRebuildOff_theLibraryIsReported_notRebuilt() throws Exception {
        Map<String, String> keys = FollowUpFixtures.keys(caseFile, null);
        keys.put("binhost.followup.preserved-rebuild", "false");
        List<RunRecord> runs = s.runnerWithFollowUps(keys).runAll(UpdateRunner.Reason.TRIGGER, "root");
        assertEquals(2, runs.size(), runs.toString());
        assertEquals(1, runs.get(1).followUp().preservedLibs().count());
        assertTrue(s.calls().stream().noneMatch(c -> c.contains("@preserved-rebuild")), s.calls().toString());
        assertEquals(1.0, gauge("preserved-libs"));
        assertEquals("trigger", runs.get(1).reason());
    }

    @Test
    void notifyOnly_plansOnce_neitherPortageFirstNorRebuild() throws Exception {
        s.config.put("binhost.update.mode", "notify-only");
        List<RunRecord> runs = s.runnerWithFollowUps(FollowUpFixtures.keys(caseFile, null))
                .runAll(UpdateRunner.Reason.SCHEDULE, "schedule");
        assertEquals(1, runs.size(), runs.toString());
        assertEquals(RunOutcome.PLANNED, runs.get(0).outcome());
        assertNull(runs.get(0).target());
        // the plan still says Portage waits for its update
        assertEquals(List.of("sys-apps/portage-3.0.83"), runs.get(0).followUp().portage().items());
        assertEquals(List.of(WORLD + " --pretend --verbose", "--pretend --depclean"), s.calls());
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // a regression would loop Portage-first runs forever, not fail
    void aRestWhosePlanStillNamesPortage_mergesItWithTheRest_noLoop() throws Exception {
        // the plan after Portage went first is again record 42's (Portage among the others): the rest takes it all
        s.scenarioScript.append("now() { echo 01-orphan; }\n");
        List<RunRecord> runs = s.runnerWithFollowUps(FollowUpFixtures.keys(caseFile, null))
                .runAll(UpdateRunner.Reason.TRIGGER, "root");
        assertEquals(List.of(WORLD + " --pretend --verbose",
                "--usepkg --update --deep --changed-use --with-bdeps y --oneshot sys-apps/portage", "--pretend --depclean",
                WORLD + " --pretend --verbose", WORLD), s.calls().subList(0, 5));
        assertEquals("sys-apps/portage", runs.get(0).target());
        assertNull(runs.get(1).target());
        assertEquals(runs.get(0).id(), runs.get(1).follows());
    }

    @Test
    void afterAResume_theRebuildRunsItsOwnTarget_notAnotherResume() throws Exception {
        List<RunRecord> runs = s.runnerWithFollowUps(FollowUpFixtures.keys(caseFile, null))
                .runAll(UpdateRunner.Reason.RESUME, "restart");
        assertEquals(List.of("--resume", "--pretend --depclean", "--usepkg @preserved-rebuild --pretend --verbose",
                "--usepkg @preserved-rebuild", "--pretend --depclean"), s.calls());
        assertEquals(List.of("resume", "resume"), runs.stream().map(RunRecord::reason).toList());
        assertEquals("@preserved-rebuild", runs.get(1).target());
        assertEquals(RunOutcome.SUCCESS, runs.get(1).outcome(), runs.get(1).message());
    }

    @Test
    void optionsOf_keepsOptionsAndTheirValues_dropsTargets() {
        assertEquals(List.of("--usepkg", "--update", "--deep", "--changed-use", "--with-bdeps", "y", "--exclude",
                        "www-client/firefox", "--keep-going", "y", "--jobs", "3"),
                UpdateRunner.optionsOf(List.of("--usepkg", "--update", "--deep", "--changed-use", "--with-bdeps", "y",
                        "@world", "--exclude", "www-client/firefox", "--keep-going", "y", "world", "--jobs", "3",
                        "sys-apps/foo")));
        assertTrue(UpdateRunner.isPortage("sys-apps/portage-3.0.83"));
        assertTrue(!UpdateRunner.isPortage("sys-apps/portage-utils-0.96"));
    }

    private double gauge(String kind) {
        return s.registry.find("binhost.followup.pending").tag("kind", kind).gauge().value();
    }
}
