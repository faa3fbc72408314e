package dev.binhost.agent.sync;

import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready needs fresh config; an update run needs it too unless binhost.sync.require-fresh=false. */
@Readiness
@ApplicationScoped
public class ConfigHealth implements HealthCheck, RunPrecondition {
    @Inject
    ConfigSync sync;

    @Override
    public HealthCheckResponse call() {
        Verdict v = sync.freshness();
        return HealthCheckResponse.named("config-fresh").status(v.ok()).withData("reason", v.detail()).build();
    }

    @Override
    public String name() {
        return "config-fresh";
    }

    @Override
    public Verdict check() {
        Verdict v = sync.freshness();
        if (v.ok() || sync.config().requireFresh()) {
            return v;
        }
        return Verdict.ok("not required (binhost.sync.require-fresh=false): " + v.detail());
    }
}
