package dev.binhost.agent.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class MonitoringRulesTest {
    static final Path DIR = Sh.REPO.resolve("deploy/monitoring");
    /**
     * The agent's metric names as Prometheus shows them (Micrometer dots become underscores, plus units): a quick
     * check without root. The e2e cold-start scenario checks the same files against the running agent's real
     * exposition, which is what caught binhost_sync_last_success_seconds missing from the agent.
     */
    static final Set<String> METRICS = Set.of("binhost_master_up", "binhost_master_transitions_total",
            "binhost_master_probe_duration_seconds_sum", "binhost_master_probe_duration_seconds_count",
            "binhost_sync_pulls_total", "binhost_sync_last_success_seconds", "binhost_mount_up",
            "binhost_update_runs_total", "binhost_update_last_success_seconds", "binhost_update_pending",
            "binhost_sync_held", "binhost_followup_pending", "binhost_update_bad_binaries_total");
    static final Pattern NAME = Pattern.compile("\\bbinhost_[a-z_]+");

    @Test
    void promtool_checksTheRulesAndTheirUnitTestsPass() throws Exception {
        Assumptions.assumeTrue(Sh.onPath("promtool"), "promtool is not installed (apt-get install prometheus)");
        Sh.Result check = Sh.run(List.of("promtool", "check", "rules", DIR.resolve("binhost-agent.rules.yml").toString()), Map.of(), 60);
        assertEquals(0, check.exit(), check.all());
        assertTrue(check.all().contains("SUCCESS: 14 rules found"), check.all());

        Sh.Result test = Sh.run(List.of("sh", "-c", "cd deploy/monitoring && promtool test rules binhost-agent.rules.test.yml"),
                Map.of(), 120);
        assertEquals(0, test.exit(), test.all());
    }

    /** Every binhost_* series the shipped alert rules and dashboard panels query. */
    public static Set<String> monitoredSeries() throws IOException {
        Set<String> used = new TreeSet<>(names(Files.readString(DIR.resolve("binhost-agent.rules.yml"))));
        JsonNode dashboard = new ObjectMapper().readTree(DIR.resolve("binhost-agent-dashboard.json").toFile());
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                used.addAll(names(target.get("expr").asText()));
            }
        }
        return used;
    }

    @Test
    void rulesAndDashboard_useOnlyTheAgentsMetricNames() throws Exception {
        Set<String> used = monitoredSeries();
        Set<String> unknown = new TreeSet<>(used);
        unknown.removeAll(METRICS);
        assertEquals(Set.of(), unknown, "names no exporter produces");
        assertTrue(used.containsAll(Set.of("binhost_master_up", "binhost_update_last_success_seconds",
                "binhost_sync_last_success_seconds", "binhost_mount_up", "binhost_update_runs_total")), used.toString());
    }

    private static List<String> names(String text) {
        Matcher m = NAME.matcher(text);
        List<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }
}
