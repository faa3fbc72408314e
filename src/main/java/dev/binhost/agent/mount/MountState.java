package dev.binhost.agent.mount;

import dev.binhost.agent.mount.MountStatus.Phase;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where one configured mount is, as one value: what status shows, what the next round does and when it is due
 * all follow from it ({@link MountMachine}), so nothing has to be recovered from a log line or a detail text.
 * A state that holds an {@link Owner} is a mount the agent made and may unmount; the owned-mounts file is the
 * list of those.
 */
public sealed interface MountState {

    /** When this state (for {@link ReleaseDeferred}: the state the release waits in) began. */
    Instant since();

    /** The state's phase as status, readiness and the precondition show it. */
    Phase phase();

    /** The agent's mount when the agent made what is at the target, else empty. */
    Optional<Owner> owner();

    /** One line for status and readiness: what is there and why. */
    String detail();

    /** Short stable name for status' "state" key. */
    String name();

    /** Nothing of the agent's is at the target: not mounted yet, or unmounted outside the agent. */
    record Unmounted(String why, Instant since) implements MountState {
        public Phase phase() {
            return Phase.NOT_MOUNTED;
        }

        public Optional<Owner> owner() {
            return Optional.empty();
        }

        public String detail() {
            return why;
        }

        public String name() {
            return "unmounted";
        }
    }

    /** The mount command runs (bounded by the command timeout); status shows it instead of the state before. */
    record Mounting(String command, Instant since) implements MountState {
        public Phase phase() {
            return Phase.NOT_MOUNTED;
        }

        public Optional<Owner> owner() {
            return Optional.empty();
        }

        public String detail() {
            return "mounting: `" + command + "`";
        }

        public String name() {
            return "mounting";
        }
    }

    /**
     * There and answering (or not probed yet). Without an owner it was mounted outside the agent: used as is,
     * never unmounted by the agent. {@code probeDue} is when the next health probe runs.
     */
    record Mounted(Optional<Owner> owner, String how, Instant since, Instant probeDue) implements MountState {
        public Phase phase() {
            return Phase.MOUNTED;
        }

        public String detail() {
            return how;
        }

        public String name() {
            return "mounted";
        }
    }

    /**
     * There, but the probe timed out or failed (ESTALE, ENOTCONN, a frozen server). The agent's own stale mount
     * is released lazily at once; a foreign one stays, and the agent looks again at {@code retryAt}.
     */
    record Stale(Optional<Owner> owner, String why, Instant since, Instant retryAt) implements MountState {
        public Phase phase() {
            return Phase.STALE;
        }

        public String detail() {
            return why;
        }

        public String name() {
            return "stale";
        }
    }

    /**
     * The agent wants to release its mount ({@code why}: the master went DOWN, the mount is stale) but
     * {@code blocker} stops it; {@code in} is the state the mount stays in meanwhile (mounted or stale), and the
     * release is tried again at {@code checkAt}.
     */
    record ReleaseDeferred(MountState in, String why, Blocker blocker, Instant deferredAt, Instant checkAt)
            implements MountState {
        public ReleaseDeferred {
            if (!(in instanceof Mounted) && !(in instanceof Stale)) {
                throw new IllegalArgumentException("only a mounted or stale mount can wait for its release: " + in);
            }
            if (in.owner().isEmpty()) {
                throw new IllegalArgumentException("the agent releases only its own mounts: " + in);
            }
        }

        public Instant since() {
            return in.since();
        }

        public Phase phase() {
            return in.phase();
        }

        public Optional<Owner> owner() {
            return in.owner();
        }

        public String detail() {
            return why + "; " + blocker.describe();
        }

        public String name() {
            return "release-deferred";
        }

        /** A stale mount's release is never cancelled: it must go, whatever the master does. */
        boolean forStale() {
            return in instanceof Stale;
        }
    }

    /**
     * The agent unmounted its mount ({@code how}: "released" or "released lazily", {@code why}). A stale mount's
     * release keeps the phase STALE, and its next mount waits for {@code retryAt}; otherwise the next mount
     * waits for the master only ({@code retryAt} empty).
     */
    record Released(String how, String why, boolean wasStale, Instant since, Optional<Instant> retryAt)
            implements MountState {
        public Phase phase() {
            return wasStale ? Phase.STALE : Phase.NOT_MOUNTED;
        }

        public Optional<Owner> owner() {
            return Optional.empty();
        }

        public String detail() {
            return how + ": " + why;
        }

        public String name() {
            return "released";
        }
    }

    /**
     * The agent could not mount (or could not tell what is mounted): {@code why} says what is wrong and what to
     * change; the next try is at {@code retryAt}. An owner is kept when the agent's mount is still there.
     */
    record Failed(Optional<Owner> owner, String why, Instant since, Instant retryAt) implements MountState {
        public Phase phase() {
            return Phase.ERROR;
        }

        public String detail() {
            return why;
        }

        public String name() {
            return "failed";
        }
    }

    /** What the agent mounted: mountinfo's id (unique while mounted) and device (tells a reused id apart). */
    record Owner(int mountId, String device) {
        boolean is(MountEntry e) {
            return e.mountId() == mountId && e.device().equals(device);
        }
    }

    /** Why a wanted release waits. */
    sealed interface Blocker {
        String describe();
    }

    /**
     * An emerge runs: the agent's own update run ({@code agentsRun}) or emerge processes seen in /proc
     * ({@code pids}). Equal blockers mean nothing changed: the re-check is not logged or counted again.
     */
    record EmergeRunning(boolean agentsRun, List<Long> pids) implements Blocker {
        public EmergeRunning {
            pids = List.copyOf(pids);
        }

        public String describe() {
            return "release deferred: " + (agentsRun ? "the agent's update run has an emerge running"
                    : "emerge is running (" + dev.binhost.agent.portage.RunningEmerge.describe(pids) + ")");
        }
    }

    /** The release itself failed (the mount table could not be read, {@code umount -l} failed). */
    record ReleaseFailed(String what) implements Blocker {
        public String describe() {
            return what;
        }
    }
}
