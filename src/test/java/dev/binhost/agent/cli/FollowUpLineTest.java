package dev.binhost.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.binhost.agent.followup.FollowUp;
import dev.binhost.agent.followup.FollowUpFixtures;
import dev.binhost.agent.followup.FollowUpStatus;
import dev.binhost.agent.followup.FollowUps;
import dev.binhost.agent.followup.Item;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The follow-up area of {@code binhost-agent status} and a follow-on run in {@code history}, as the CLI gets them. */
class FollowUpLineTest {
    @TempDir
    Path tmp;

    private FollowUp collected(String kase, Map<String, String> keys) throws Exception {
        Path root = tmp.resolve(kase);
        FollowUpFixtures.lay(kase, root, Instant.now().minusSeconds(60));
        Path file = Files.writeString(tmp.resolve(kase + ".case"), kase + "\n");
        FollowUps c = FollowUpFixtures.collector(root, file, keys);
        return c.collect("20261202T150700Z-4a4a", c.elogMark(), Item.of(List.of(), "the run's plan"));
    }

    /** The section as the agent sends it over the socket: JSON, read back into maps. */
    @SuppressWarnings("unchecked")
    private static String line(FollowUp f, Instant now) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("follow-up", json.readValue(json.writeValueAsString(FollowUpStatus.of(f)), LinkedHashMap.class));
        return StatusText.render(status, Clock.fixed(now, ZoneOffset.UTC)).lines().toList().get(1);
    }

    @Test
    void afterTheUpdate_aProblem_mostUrgentFirst_withWhatToRun() throws Exception {
        FollowUp f = collected("03-after-update", Map.of());
        String l = line(f, Instant.parse(f.collectedAt()).plusSeconds(240));
        assertTrue(l.startsWith("! follow-up  1 GLSA advisory affects this slave (glsa-check -p affected): 202611-01; "
                + "1 preserved library still in use (emerge @preserved-rebuild): "), l);
        assertTrue(l.contains("; 1 config file waits for a merge (dispatch-conf or etc-update): "
                + "/etc/._cfg0000_demo-daemon.conf; "), l);
        assertTrue(l.endsWith("(after run 20261202T150700Z-4a4a, 4 min ago)"), l);
    }

    @Test
    void cleanSlave_noProblem_andAMissingToolIsNamed() throws Exception {
        FollowUp f = collected("00-clean", Map.of("binhost.followup.glsa-check-command", tmp.resolve("none").toString()));
        String l = line(f, Instant.parse(f.collectedAt()));
        assertEquals("  follow-up  nothing needs you (after run 20261202T150700Z-4a4a, 0 s ago); not known: "
                + "glsa: not-installed (" + tmp.resolve("none") + " not found)", l);
    }

    @Test
    void beforeAnyRun_saysSo() throws Exception {
        assertEquals("  follow-up  nothing collected yet (after the first update run)", line(null, Instant.now()));
    }

    @Test
    void historyLine_ofARebuild_namesItsTargetAndTheRunItFollows() {
        RunRecord r = new RunRecord("20261202T151000Z-5b5b", "schedule", "schedule", "2026-12-02T15:10:00Z",
                "2026-12-02T15:11:30Z", List.of(), null, "apply", RunOutcome.SUCCESS, 0, null, null,
                "all 1 approved packages installed (1 binary, 0 built)", 1, 0, null, null, "pretend-then-run", null,
                "@preserved-rebuild", "20261202T150700Z-4a4a", null);
        assertEquals("2026-12-02T15:10:00Z  success        schedule    1 min  @preserved-rebuild after "
                + "20261202T150700Z-4a4a: all 1 approved packages installed (1 binary, 0 built)  (20261202T151000Z-5b5b)",
                RunLine.of(r));
    }
}
