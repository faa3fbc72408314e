package dev.binhost.agent.sync;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Startup;

/** Started once the first config pull attempt has finished, whatever its outcome. */
@Startup
@ApplicationScoped
public class FirstPullStartup implements HealthCheck {
    @Inject
    ConfigSync sync;

    @Override
    public HealthCheckResponse call() {
        boolean done = sync.firstAttemptDone();
        var b = HealthCheckResponse.named("first-config-pull").status(done);
        if (!done) {
            b.withData("reason", "the first config pull has not finished yet (it runs when the master comes UP"
                    + " or on the schedule)");
        } else {
            sync.last().ifPresent(r -> b.withData("outcome", r.outcome().name()));
        }
        return b.build();
    }
}
