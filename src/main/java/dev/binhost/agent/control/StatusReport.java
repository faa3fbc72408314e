package dev.binhost.agent.control;

import dev.binhost.agent.spi.StatusContributor;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The agent's status as one JSON-ready map: an "agent" section (version, pid, start, uptime) and one section
 * per {@link StatusContributor}. A contributor that fails yields an "error" entry instead of hiding the rest.
 */
@ApplicationScoped
public class StatusReport {
    @Inject
    Instance<StatusContributor> contributors;

    @Inject
    Clock clock;

    @ConfigProperty(name = "quarkus.application.version", defaultValue = "unknown")
    String version;

    public Map<String, Object> snapshot() {
        Instant now = clock.instant();
        Instant started = Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
        Map<String, Object> report = new LinkedHashMap<>();
        Map<String, Object> agent = new LinkedHashMap<>();
        agent.put("version", version);
        agent.put("pid", ProcessHandle.current().pid());
        agent.put("startedAt", started.toString());
        agent.put("uptimeSeconds", Math.max(0, Duration.between(started, now).toSeconds()));
        agent.put("now", now.toString());
        report.put("agent", agent);
        // Sorted by section so the output is stable whatever order CDI finds the beans in.
        Map<String, Object> sections = new TreeMap<>();
        for (StatusContributor c : contributors) {
            Object section;
            try {
                section = c.status();
            } catch (RuntimeException e) {
                Log.warnf(e, "status section %s failed", c.section());
                section = Map.of("error", String.valueOf(e));
            }
            sections.put(c.section(), section);
        }
        report.putAll(sections);
        return report;
    }
}
