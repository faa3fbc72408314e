package dev.binhost.agent.master;

import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.spi.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.LinkedHashMap;
import java.util.Map;

/** An update run needs the master UP; status shows what the watch knows. */
@ApplicationScoped
public class MasterUpPrecondition implements RunPrecondition, StatusContributor {
    @Inject
    MasterWatch watch;

    @Override
    public String name() {
        return "master-up";
    }

    @Override
    public Verdict check() {
        MasterState s = watch.state();
        return s.up() ? Verdict.ok("master " + watch.config().host() + " UP since " + s.since())
                : Verdict.no("master " + watch.config().host() + " is " + s.status() + ": " + s.reason());
    }

    @Override
    public String section() {
        return "master";
    }

    @Override
    public Map<String, Object> status() {
        MasterState s = watch.state();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", watch.config().host());
        m.put("status", s.status().name());
        m.put("since", s.since().toString());
        m.put("reason", s.reason());
        m.put("lastProbe", s.lastRoundAt() == null ? null : s.lastRoundAt().toString());
        return m;
    }
}
