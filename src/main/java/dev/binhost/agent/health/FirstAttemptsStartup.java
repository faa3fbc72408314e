package dev.binhost.agent.health;

import dev.binhost.agent.spi.StartupStep;
import dev.binhost.agent.spi.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Startup;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Started once every feature's first attempt ({@link StartupStep}) has finished, whatever its outcome. */
@Startup
@ApplicationScoped
public class FirstAttemptsStartup implements HealthCheck {
    @Inject
    Instance<StartupStep> steps;

    @Override
    public HealthCheckResponse call() {
        return of(steps.stream().toList());
    }

    /** UP when every step is done; each step's verdict as data under its name, and which ones are waiting. */
    static HealthCheckResponse of(List<StartupStep> steps) {
        List<String> waiting = new ArrayList<>();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("first-attempts");
        for (StartupStep step : steps.stream().sorted(Comparator.comparing(StartupStep::name)).toList()) {
            Verdict v = step.attempted();
            b.withData(step.name(), (v.ok() ? "done: " : "waiting: ") + v.detail());
            if (!v.ok()) {
                waiting.add(step.name());
            }
        }
        if (!waiting.isEmpty()) {
            b.withData("waiting", String.join(", ", waiting));
        }
        return b.status(waiting.isEmpty()).build();
    }
}
