package dev.binhost.agent.mount;

import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.spi.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An update run needs every mount healthy ("mounts-healthy"); status shows each mount ("mounts"). Kept apart from
 * the readiness check because its qualifier would hide these beans from plain injection. Reads memory only.
 */
@ApplicationScoped
public class MountsPrecondition implements RunPrecondition, StatusContributor {
    private final MountManager mounts;

    @Inject
    public MountsPrecondition(MountManager mounts) {
        this.mounts = mounts;
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
            m.put("state", s.state().name());
            out.put(s.name(), m);
        }
        return out;
    }
}
