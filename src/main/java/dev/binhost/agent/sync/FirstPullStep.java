package dev.binhost.agent.sync;

import dev.binhost.agent.spi.StartupStep;
import dev.binhost.agent.spi.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** The config pull's part of "started": the first pull attempt has finished, whatever its outcome. */
@ApplicationScoped
public class FirstPullStep implements StartupStep {
    private final ConfigSync sync;

    @Inject
    public FirstPullStep(ConfigSync sync) {
        this.sync = sync;
    }

    @Override
    public String name() {
        return "first-config-pull";
    }

    @Override
    public Verdict attempted() {
        if (!sync.firstAttemptDone()) {
            return Verdict.no("the first config pull has not finished yet (it runs when the master comes UP"
                    + " or on the schedule)");
        }
        return Verdict.ok(sync.last().map(r -> r.outcome().name())
                .orElseGet(() -> sync.firstAttemptNote().orElse("finished")));
    }
}
