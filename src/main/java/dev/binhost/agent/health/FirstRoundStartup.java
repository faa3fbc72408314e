package dev.binhost.agent.health;

import dev.binhost.agent.master.MasterWatch;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Startup;

/** Started once the agent has probed the master at least once, whatever the answer. */
@Startup
@ApplicationScoped
public class FirstRoundStartup implements HealthCheck {
    @Inject
    MasterWatch watch;

    @Override
    public HealthCheckResponse call() {
        boolean done = watch.firstRoundDone();
        var b = HealthCheckResponse.named("first-master-probe").status(done);
        if (!done) {
            b.withData("reason", "the first probe of the master has not finished yet");
        }
        return b.build();
    }
}
