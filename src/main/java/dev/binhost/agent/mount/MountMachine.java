package dev.binhost.agent.mount;

import dev.binhost.agent.mount.MountState.Blocker;
import dev.binhost.agent.mount.MountState.EmergeRunning;
import dev.binhost.agent.mount.MountState.Failed;
import dev.binhost.agent.mount.MountState.Mounted;
import dev.binhost.agent.mount.MountState.Mounting;
import dev.binhost.agent.mount.MountState.Owner;
import dev.binhost.agent.mount.MountState.ReleaseDeferred;
import dev.binhost.agent.mount.MountState.Released;
import dev.binhost.agent.mount.MountState.Stale;
import dev.binhost.agent.mount.MountState.Unmounted;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The mount state machine, pure: which action a mount's state asks for now, when it is next due, and the state
 * each outcome leads to. {@link MountManager} does the I/O (mountinfo, mount, umount, the probe) and feeds what
 * happened in here; nothing here reads a file, a clock or a thread, so every transition is tested on its own.
 */
final class MountMachine {
    /**
     * How often a release deferred by a running emerge is tried again. An emerge runs for minutes to hours, so
     * the share goes at most this long after it ends; each try is one scan of /proc (well under a millisecond of
     * CPU), six a minute while an emerge runs and none when idle. A master coming back cancels the release at once
     * (an event, not this interval).
     */
    static final Duration RELEASE_RECHECK = Duration.ofSeconds(10);

    /** What a round does for one mount. */
    enum Action {
        /** Nothing is due. */
        NONE,
        /** Mount it (the master is UP and no earlier failure asks to wait). */
        MOUNT,
        /** Probe it: it is mounted and its probe interval has passed. */
        PROBE,
        /** Try the wanted release again (its re-check time has come, or the mount just went stale). */
        RELEASE,
        /** The master is back: a release wanted because it went DOWN is no longer wanted. */
        CANCEL_RELEASE
    }

    private final Duration probeInterval;
    private final Duration retryInterval;
    private final Duration releaseRecheck;

    MountMachine(Duration probeInterval, Duration retryInterval, Duration releaseRecheck) {
        this.probeInterval = probeInterval;
        this.retryInterval = retryInterval;
        this.releaseRecheck = releaseRecheck;
    }

    // --- what is due ---------------------------------------------------------------------------------------------

    /** The action {@code s} asks for at {@code now}. */
    Action action(MountState s, boolean masterUp, Instant now) {
        if (s instanceof ReleaseDeferred d) {
            if (masterUp && !d.forStale()) {
                return Action.CANCEL_RELEASE;
            }
            return now.isBefore(d.checkAt()) ? Action.NONE : Action.RELEASE;
        }
        Optional<Instant> due = due(s, masterUp);
        if (due.isEmpty() || now.isBefore(due.get())) {
            return Action.NONE;
        }
        if (s instanceof Mounted) {
            return Action.PROBE;
        }
        if (s instanceof Stale && s.owner().isPresent()) {
            return Action.RELEASE;
        }
        return Action.MOUNT;
    }

    /**
     * When {@code s} next needs a round, or empty when only an event can change it: nothing to mount while the
     * master is not UP, and a mount command running.
     */
    Optional<Instant> due(MountState s, boolean masterUp) {
        if (s instanceof ReleaseDeferred d) {
            return Optional.of(masterUp && !d.forStale() ? d.deferredAt() : d.checkAt());
        }
        if (s instanceof Mounted m) {
            return Optional.of(m.probeDue());
        }
        if (s instanceof Mounting) {
            return Optional.empty();
        }
        if (s instanceof Stale st && st.owner().isPresent()) {
            return Optional.of(st.since());
        }
        if (!masterUp) {
            return Optional.empty();
        }
        if (s instanceof Stale st) {
            return Optional.of(st.retryAt());
        }
        if (s instanceof Failed f) {
            return Optional.of(f.retryAt());
        }
        if (s instanceof Released r) {
            return Optional.of(r.retryAt().orElse(r.since()));
        }
        return Optional.of(s.since());
    }

    // --- mounting ------------------------------------------------------------------------------------------------

    /** The mount command starts. */
    MountState mounting(String command, Instant now) {
        return new Mounting(command, now);
    }

    /** What is at the target is the agent's ({@code owner}) or an identical mount of someone else's (empty). */
    Mounted mounted(MountState s, Optional<Owner> owner, String how, Instant now) {
        // Probed right away: the caller probes after every mount.
        return new Mounted(owner, how, sinceIf(s, MountStatus.Phase.MOUNTED, now), now);
    }

    /** Mounting failed, or the agent cannot tell what is mounted: tried again after the retry interval. */
    Failed failed(MountState s, Optional<Owner> owner, String why, Instant now) {
        return new Failed(owner, why, sinceIf(s, MountStatus.Phase.ERROR, now), now.plus(retryInterval));
    }

    /** Nothing of the agent's is at the target (any more). */
    Unmounted unmounted(MountState s, String why, Instant now) {
        return new Unmounted(why, sinceIf(s, MountStatus.Phase.NOT_MOUNTED, now));
    }

    // --- probing -------------------------------------------------------------------------------------------------

    /**
     * The probe answered: mounted, next probe after the probe interval. A release that waits still waits: that
     * the mount answers does not bring the master back.
     */
    MountState answered(MountState s, Instant now) {
        if (s instanceof ReleaseDeferred) {
            return s;
        }
        Instant next = now.plus(probeInterval);
        if (s instanceof Mounted m) {
            return new Mounted(m.owner(), m.how(), m.since(), next);
        }
        return new Mounted(s.owner(), "answers again", sinceIf(s, MountStatus.Phase.MOUNTED, now), next);
    }

    /** The probe timed out or failed: stale; the agent's own mount is released next, lazily. */
    Stale stale(MountState s, String why, Instant now) {
        return new Stale(s.owner(), why, sinceIf(s, MountStatus.Phase.STALE, now), now.plus(retryInterval));
    }

    // --- releasing -----------------------------------------------------------------------------------------------

    /**
     * The release ({@code why}) cannot happen now ({@code blocker}); tried again after {@link #RELEASE_RECHECK}
     * while an emerge runs, after the retry interval when the release itself failed. Deferring a release that
     * already waits keeps what it waits in and, for the same reason and blocker, when it began.
     */
    ReleaseDeferred deferred(MountState s, String why, Blocker blocker, Instant now) {
        MountState in = s instanceof ReleaseDeferred d ? d.in() : s;
        Instant deferredAt = s instanceof ReleaseDeferred d && d.why().equals(why) && d.blocker().equals(blocker)
                ? d.deferredAt() : now;
        Duration wait = blocker instanceof EmergeRunning ? releaseRecheck : retryInterval;
        return new ReleaseDeferred(in, why, blocker, deferredAt, now.plus(wait));
    }

    /** Whether going from {@code before} to {@code after} changed why the release waits (log and count it). */
    static boolean newDeferral(MountState before, ReleaseDeferred after) {
        return !(before instanceof ReleaseDeferred d) || !d.why().equals(after.why())
                || !d.blocker().equals(after.blocker());
    }

    /**
     * The agent unmounted its mount ({@code how}: "released", "released lazily"). A stale mount stays STALE in
     * status and is mounted again after its retry time; any other waits for the master only.
     */
    Released released(MountState s, String how, String why, Instant now) {
        MountState in = s instanceof ReleaseDeferred d ? d.in() : s;
        if (in instanceof Stale st) {
            return new Released(how, why, true, st.since(), Optional.of(st.retryAt()));
        }
        return new Released(how, why, false, now, Optional.empty());
    }

    /** The master came back before a deferred release could happen: the mount stays, probed at its due time. */
    MountState cancelled(ReleaseDeferred d) {
        if (d.in() instanceof Mounted m) {
            return new Mounted(m.owner(), "release cancelled: the master is back", m.since(), m.probeDue());
        }
        return d;
    }

    private static Instant sinceIf(MountState s, MountStatus.Phase phase, Instant now) {
        return s.phase() == phase ? s.since() : now;
    }
}
