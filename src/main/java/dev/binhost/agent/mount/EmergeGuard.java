package dev.binhost.agent.mount;

import dev.binhost.agent.portage.EmergeActivity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.Optional;

/** The mount manager's view of {@link EmergeActivity}: what a release must wait for. */
@ApplicationScoped
public class EmergeGuard {
    private final EmergeActivity emerges;

    @Inject
    public EmergeGuard(EmergeActivity emerges) {
        this.emerges = emerges;
    }

    /** The emerge that a release must wait for (the agent's own run, or the pids found), or empty. */
    public Optional<MountState.EmergeRunning> emergeRunning() {
        return emerges.running().map(r -> new MountState.EmergeRunning(r.agentRun().isPresent(), r.pids()));
    }
}
