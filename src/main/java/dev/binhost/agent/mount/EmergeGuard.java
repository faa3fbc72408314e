package dev.binhost.agent.mount;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.portage.RunningEmerge;
import dev.binhost.agent.spi.UpdateActivity;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Says whether an emerge runs, so no mount is pulled from under it. Asks the update feature
 * ({@link UpdateActivity}) when one is deployed; otherwise, and in addition, looks for an emerge process in
 * /proc ({@link RunningEmerge}; an admin's own emerge counts too).
 */
@ApplicationScoped
public class EmergeGuard {
    private final List<UpdateActivity> activities;
    private final Path proc;

    @Inject
    public EmergeGuard(Instance<UpdateActivity> activities, AgentConfig agent) {
        this(activities.stream().toList(), agent.procDir());
    }

    public EmergeGuard(List<UpdateActivity> activities, Path proc) {
        this.activities = List.copyOf(activities);
        this.proc = proc;
    }

    /**
     * The emerge that a release must wait for, or empty when none runs. The agent's own run answers without a
     * scan of /proc; otherwise the pids of the emerge processes found there.
     */
    public Optional<MountState.EmergeRunning> emergeRunning() {
        for (UpdateActivity activity : activities) {
            if (activity.emergeRunning()) {
                return Optional.of(new MountState.EmergeRunning(true, List.of()));
            }
        }
        List<Long> pids;
        try {
            pids = RunningEmerge.pids(proc);
        } catch (IOException e) {
            Log.warnf("cannot list %s to look for emerge: %s", proc, e.getMessage());
            return Optional.empty();
        }
        return pids.isEmpty() ? Optional.empty() : Optional.of(new MountState.EmergeRunning(false, pids));
    }
}
