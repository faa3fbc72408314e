package dev.binhost.agent.mount;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What the agent knows about one configured mount: its {@link MountState} and the last probe's time and
 * duration. Phase, owner, detail and whether a release waits all come from the state.
 */
public record MountStatus(
        String name,
        Path target,
        MountState state,
        Optional<Instant> lastProbeAt,
        Optional<Duration> lastProbeTook) {

    /**
     * NOT_MOUNTED: nothing of ours there (by policy, or not yet); MOUNTED: there and answering; STALE: there but
     * the probe timed out or failed; ERROR: the agent could not mount it (the detail says why).
     */
    public enum Phase { NOT_MOUNTED, MOUNTED, STALE, ERROR }

    static MountStatus initial(String name, Path target, Instant now) {
        return new MountStatus(name, target, new MountState.Unmounted("not mounted yet", now), Optional.empty(),
                Optional.empty());
    }

    public boolean healthy() {
        return phase() == Phase.MOUNTED;
    }

    public Phase phase() {
        return state.phase();
    }

    /** The agent mounted what is there now and may unmount it. */
    public boolean ownedByAgent() {
        return state.owner().isPresent();
    }

    public String detail() {
        return state.detail();
    }

    /** When the phase began. */
    public Instant since() {
        return state.since();
    }

    /** A release is wanted but waits (an emerge runs, or the release failed and is tried again). */
    public boolean releasePending() {
        return state instanceof MountState.ReleaseDeferred;
    }

    MountStatus in(MountState next) {
        return new MountStatus(name, target, next, lastProbeAt, lastProbeTook);
    }

    MountStatus probed(Instant at, Duration took) {
        return new MountStatus(name, target, state, Optional.of(at), Optional.of(took));
    }
}
