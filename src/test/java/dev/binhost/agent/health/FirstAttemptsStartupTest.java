package dev.binhost.agent.health;

import dev.binhost.agent.spi.StartupStep;
import dev.binhost.agent.spi.Verdict;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FirstAttemptsStartupTest {
    private static StartupStep step(String name, AtomicBoolean done, String outcome) {
        return new StartupStep() {
            public String name() {
                return name;
            }

            public Verdict attempted() {
                return done.get() ? Verdict.ok(outcome) : Verdict.no("not yet");
            }
        };
    }

    @Test
    void call_untilEveryStepsFirstAttemptIsDone_isDownNamingTheWaitingOnes() {
        AtomicBoolean probed = new AtomicBoolean();
        AtomicBoolean pulled = new AtomicBoolean();
        List<StartupStep> steps = List.of(step("first-master-probe", probed, "master DOWN"),
                step("first-config-pull", pulled, "FAILED"));

        HealthCheckResponse r = FirstAttemptsStartup.of(steps);
        assertEquals(HealthCheckResponse.Status.DOWN, r.getStatus());
        assertEquals(Map.of("first-config-pull", "waiting: not yet", "first-master-probe", "waiting: not yet",
                "waiting", "first-config-pull, first-master-probe"), r.getData().orElseThrow());

        probed.set(true);
        r = FirstAttemptsStartup.of(steps);
        assertEquals(HealthCheckResponse.Status.DOWN, r.getStatus(), "the pull has not finished yet");
        assertEquals("first-config-pull", r.getData().orElseThrow().get("waiting"));
        assertEquals("done: master DOWN", r.getData().orElseThrow().get("first-master-probe"),
                "a failed attempt still counts as done");

        pulled.set(true);
        r = FirstAttemptsStartup.of(steps);
        assertEquals(HealthCheckResponse.Status.UP, r.getStatus());
        assertEquals(Map.of("first-config-pull", "done: FAILED", "first-master-probe", "done: master DOWN"),
                r.getData().orElseThrow());
        assertEquals("first-attempts", r.getName());
    }

    @Test
    void call_noStepsDeployed_isUp() {
        assertEquals(HealthCheckResponse.Status.UP, FirstAttemptsStartup.of(List.of()).getStatus());
    }
}
