package dev.binhost.agent.master;

import dev.binhost.agent.spi.StartupStep;
import dev.binhost.agent.spi.Verdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** The master watch's part of "started": the first probe round has finished, whatever the answer. */
@ApplicationScoped
public class FirstProbeStep implements StartupStep {
    @Inject
    MasterWatch watch;

    @Override
    public String name() {
        return "first-master-probe";
    }

    @Override
    public Verdict attempted() {
        return watch.firstRoundDone() ? Verdict.ok("master " + watch.state().status())
                : Verdict.no("the first probe of the master has not finished yet");
    }
}
