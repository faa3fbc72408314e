package dev.binhost.agent.mount;

import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.spi.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mount health for readiness ("mounts"), the update run ("mounts-healthy") and status ("mounts"). Reads the
 * manager's memory only: the probes ran earlier in child processes.
 */
@Readiness
@ApplicationScoped
public class MountsHealth implements HealthCheck, RunPrecondition, StatusContributor {
    private final MountManager mounts;

    @Inject
    public MountsHealth(MountManager mounts) {
        this.mounts = mounts;
    }

    @Override
    public HealthCheckResponse call() {
        List<MountStatus> all = mounts.statuses();
        List<MountStatus> bad = all.stream().filter(s -> !s.healthy()).toList();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("mounts").status(bad.isEmpty());
        for (MountStatus s : all) {
            b.withData(s.name(), s.phase() + " " + s.target() + ": " + s.detail());
        }
        if (all.isEmpty()) {
            b.withData("reason", "no mounts configured");
        } else if (!bad.isEmpty()) {
            b.withData("reason", "not healthy: " + String.join(", ", bad.stream().map(MountStatus::name).toList()));
        }
        return b.build();
    }

    @Override
    public String name() {
        return "mounts-healthy";
    }

    @Override
    public Verdict check() {
        List<MountStatus> bad = mounts.statuses().stream().filter(s -> !s.healthy()).toList();
        if (bad.isEmpty()) {
            return Verdict.ok(mounts.statuses().isEmpty() ? "no mounts configured"
                    : "all " + mounts.statuses().size() + " mounts answer");
        }
        return Verdict.no(String.join("; ", bad.stream()
                .map(s -> s.name() + " (" + s.target() + ") " + s.phase() + ": " + s.detail()).toList()));
    }

    @Override
    public String section() {
        return "mounts";
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (MountStatus s : mounts.statuses()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("target", s.target().toString());
            m.put("phase", s.phase().name());
            m.put("ownedByAgent", s.ownedByAgent());
            m.put("since", s.since().toString());
            m.put("detail", s.detail());
            m.put("releasePending", s.releasePending());
            m.put("lastProbe", s.lastProbeAt().map(Object::toString).orElse(null));
            m.put("lastProbeMillis", s.lastProbeTook().map(d -> d.toMillis()).orElse(null));
            out.put(s.name(), m);
        }
        return out;
    }
}
