package dev.binhost.agent.health;

import dev.binhost.agent.master.MasterState;
import dev.binhost.agent.master.MasterWatch;
import dev.binhost.agent.master.ProbeResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready needs the master reachable: its services answered (after hysteresis). */
@Readiness
@ApplicationScoped
public class MasterReadiness implements HealthCheck {
    @Inject
    MasterWatch watch;

    @Override
    public HealthCheckResponse call() {
        MasterState s = watch.state();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("master")
                .status(s.up())
                .withData("host", watch.config().host())
                .withData("status", s.status().name())
                .withData("since", s.since().toString())
                .withData("reason", s.reason());
        if (s.lastRoundAt() != null) {
            b.withData("lastProbe", s.lastRoundAt().toString());
        }
        for (ProbeResult r : s.lastRound()) {
            b.withData("probe." + r.probe(), (r.ok() ? "ok: " : "failed: ") + r.detail());
        }
        return b.build();
    }
}
