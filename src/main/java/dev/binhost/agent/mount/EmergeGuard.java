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

    /** Why releasing a mount must wait, or empty when no emerge runs. */
    public Optional<String> emergeRunning() {
        for (UpdateActivity activity : activities) {
            if (activity.emergeRunning()) {
                return Optional.of("the agent's update run has an emerge running");
            }
        }
        List<Long> pids;
        try {
            pids = RunningEmerge.pids(proc);
        } catch (IOException e) {
            Log.warnf("cannot list %s to look for emerge: %s", proc, e.getMessage());
            return Optional.empty();
        }
        return pids.isEmpty() ? Optional.empty() : Optional.of("emerge is running (" + RunningEmerge.describe(pids) + ")");
    }
}
