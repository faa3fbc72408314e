package dev.binhost.agent.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

import java.util.List;

/** Live = no loop of the agent has missed its own due time. Reads memory only: no network, no mount. */
@Liveness
@ApplicationScoped
public class LoopsLiveness implements HealthCheck {
    @Inject
    Heartbeats heartbeats;

    @Override
    public HealthCheckResponse call() {
        List<String> wedged = heartbeats.wedged();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("agent-loops").status(wedged.isEmpty());
        heartbeats.dueBy().forEach(b::withData);
        if (!wedged.isEmpty()) {
            b.withData("reason", "wedged: " + String.join("; ", wedged));
        }
        return b.build();
    }
}
