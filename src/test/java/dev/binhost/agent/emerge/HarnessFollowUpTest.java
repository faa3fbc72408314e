package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Not for CI: the update runner with its follow-ups against the REAL Portage of the harness, on a slave staged
 * as in {@code harness/followup-record.sh} just before its update (record 42's state): Portage first, the rest,
 * then @preserved-rebuild, in both resolutions, each from the same host state. Prints one table row per run.
 * {@code BINHOST_TEST_HARNESS_EMERGE}, {@code _PORTAGEQ}, {@code _GLSA_CHECK}: wrappers running the tool on the
 * harness slave; {@code _EROOT}: a view of the slave's files (its var and its etc); {@code _RESTORE}: a shell
 * command that puts the slave and the shared PKGDIR back to that state.
 */
@EnabledIfEnvironmentVariable(named = "BINHOST_TEST_HARNESS_FOLLOWUP", matches = "1")
class HarnessFollowUpTest {
    @TempDir
    Path tmp;

    @Test
    void portageFirst_rest_preservedRebuild_forReal() throws Exception {
        for (String resolution : new String[] {"pretend-then-run", "one-pass"}) {
            HarnessRunTestSupport.restore();
            StandIn s = new StandIn(tmp.resolve(resolution));
            Path eroot = Path.of(System.getenv("BINHOST_TEST_HARNESS_EROOT"));
            s.config.put("binhost.update.emerge-command", System.getenv("BINHOST_TEST_HARNESS_EMERGE"));
            s.config.put("binhost.update.eroot", eroot.toString());
            s.config.put("binhost.update.make-conf", eroot.resolve("etc/portage/make.conf").toString());
            s.config.put("binhost.update.resolution", resolution);
            s.config.put("binhost.update.plan-deadline", "10m");
            s.config.put("binhost.update.run-deadline", "30m");
            Map<String, String> keys = new HashMap<>();
            keys.put("binhost.followup.portageq-command", System.getenv("BINHOST_TEST_HARNESS_PORTAGEQ"));
            keys.put("binhost.followup.glsa-check-command", System.getenv("BINHOST_TEST_HARNESS_GLSA_CHECK"));
            List<RunRecord> runs = s.runnerWithFollowUps(keys).runAll(UpdateRunner.Reason.TRIGGER, "harness");
            for (RunRecord r : runs) {
                System.out.printf("HARNESS-FOLLOWUP | %s | %s | %s | %s | %s | binary %s, built %s | %s | %s%n",
                        resolution, r.id(), r.targetOrWorld(), r.follows(), r.outcome().tag(),
                        r.merge() == null ? "-" : r.merge().binary(), r.merge() == null ? "-" : r.merge().built(),
                        r.followUp() == null ? "-" : String.join("; ", r.followUp().attention()),
                        r.followUp() == null ? "-" : String.join("; ", r.followUp().unknown()));
            }
            assertEquals(List.of("sys-apps/portage", "@world", "@preserved-rebuild"),
                    runs.stream().map(RunRecord::targetOrWorld).toList(), resolution);
            runs.forEach(r -> assertEquals(RunOutcome.SUCCESS, r.outcome(), resolution + " " + r.message()));
            assertNull(runs.get(0).follows());
            assertTrue(runs.get(1).followUp().preservedLibs().pending(), runs.get(1).followUp().toString());
            assertEquals(0, runs.get(2).followUp().preservedLibs().count(), runs.get(2).followUp().toString());
            assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf"), runs.get(2).followUp().configFiles().items());
        }
        HarnessRunTestSupport.restore();
    }
}
