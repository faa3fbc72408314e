package dev.binhost.agent.portage;

import dev.binhost.agent.config.AgentConfig;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The one answer to "is an emerge running on this machine?": the agent's own update run (from its first
 * precondition to its record, so also while it plans with {@code emerge --pretend}), or any emerge process
 * under {@code binhost.agent.proc-dir} (an admin's own counts). The mounts are not released under it and the
 * scheduled config pull waits for it. The agent's run answers without a scan of /proc.
 */
@ApplicationScoped
public class EmergeActivity {
    /** What is running: the agent's own run (its id), or the pids of the emerge processes found. */
    public record Running(Optional<String> agentRun, List<Long> pids) {
        public Running {
            pids = List.copyOf(pids);
        }
    }

    private final Path proc;
    private volatile Supplier<Optional<String>> agentRun = Optional::empty;

    @Inject
    public EmergeActivity(AgentConfig agent) {
        this(agent.procDir());
    }

    public EmergeActivity(Path proc) {
        this.proc = proc;
    }

    /** The update feature tells where its current run's id is read. */
    public void watchAgentRun(Supplier<Optional<String>> currentRunId) {
        this.agentRun = currentRunId;
    }

    /** What runs now, or empty; a /proc that cannot be listed counts as nothing found (logged). */
    public Optional<Running> running() {
        Optional<String> own = agentRun.get();
        if (own.isPresent()) {
            return Optional.of(new Running(own, List.of()));
        }
        List<Long> pids;
        try {
            pids = RunningEmerge.pids(proc);
        } catch (IOException e) {
            Log.warnf("cannot list %s to look for emerge: %s", proc, e.getMessage());
            return Optional.empty();
        }
        return pids.isEmpty() ? Optional.empty() : Optional.of(new Running(Optional.empty(), pids));
    }

    public boolean any() {
        return running().isPresent();
    }
}
