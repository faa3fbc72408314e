package dev.binhost.agent.mount;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What the agent knows about one configured mount. {@code ownedByAgent} means the agent mounted what is there
 * now and may unmount it; {@code releasePending} means a release waits for an emerge to finish.
 */
public record MountStatus(
        String name,
        Path target,
        Phase phase,
        boolean ownedByAgent,
        String detail,
        Instant since,
        Optional<Instant> lastProbeAt,
        Optional<Duration> lastProbeTook,
        boolean releasePending) {

    /**
     * NOT_MOUNTED: nothing of ours there (by policy, or not yet); MOUNTED: there and answering; STALE: there but
     * the probe timed out or failed; ERROR: the agent could not mount it (the detail says why).
     */
    public enum Phase { NOT_MOUNTED, MOUNTED, STALE, ERROR }

    static MountStatus initial(String name, Path target, Instant now) {
        return new MountStatus(name, target, Phase.NOT_MOUNTED, false, "not mounted yet", now, Optional.empty(),
                Optional.empty(), false);
    }

    public boolean healthy() {
        return phase == Phase.MOUNTED;
    }

    MountStatus with(Phase newPhase, boolean owned, String newDetail, Instant now) {
        return new MountStatus(name, target, newPhase, owned, newDetail, newPhase == phase ? since : now,
                lastProbeAt, lastProbeTook, releasePending);
    }

    MountStatus probed(Instant at, Duration took) {
        return new MountStatus(name, target, phase, ownedByAgent, detail, since, Optional.of(at), Optional.of(took),
                releasePending);
    }

    MountStatus pending(boolean pending, String newDetail) {
        return new MountStatus(name, target, phase, ownedByAgent, newDetail, since, lastProbeAt, lastProbeTook,
                pending);
    }
}
