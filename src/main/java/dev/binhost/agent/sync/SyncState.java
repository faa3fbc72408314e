package dev.binhost.agent.sync;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything {@link ConfigSync} knows between two events, as one immutable value: where the pull cycle is
 * ({@link Phase}), how the first attempt since start ended, the last pull's result and the last success.
 * Only {@link SyncMachine} makes one ({@code initial}, then {@code next}); {@link ConfigSync} holds the current
 * one in a single field.
 *
 * @param phase        where the pull cycle is
 * @param firstAttempt how the first attempt since start ended when it ran no pull, or the outcome of the pull it
 *                     ran; empty until it ended ("started" waits for it)
 * @param last         the last pull's result, empty before the first pull since start
 * @param lastSuccess  when a pull last succeeded (read back from the state dir at start: a restart does not make
 *                     the config on disk any older)
 * @param unrecovered  why an apply a crash interrupted could not be finished, empty when none is left
 */
record SyncState(Phase phase, Optional<String> firstAttempt, Optional<PullResult> last,
        Optional<Instant> lastSuccess, Optional<String> unrecovered) {

    SyncState {
        Objects.requireNonNull(phase, "phase");
    }

    /** Where the pull cycle is. A pull runs only in {@link Running} and {@link Following}, always on the loop. */
    sealed interface Phase {
        /** Short name for status ("state"). */
        String label();
    }

    /** Nothing runs or is owed; the next scheduled pull is at {@code next}, none when the schedule is off. */
    record Idle(Optional<Instant> next) implements Phase {
        public String label() {
            return "idle";
        }
    }

    /** A pull is owed (the master came UP) and runs at the loop's next step, which is now. */
    record Owed(String reason) implements Phase {
        public String label() {
            return "owed";
        }
    }

    /** A pull for {@code reason} runs since {@code since}. */
    record Running(Instant since, String reason) implements Phase {
        public String label() {
            return "running";
        }
    }

    /**
     * A pull runs and one more is owed right after it: the master came UP while it ran, so the running pull may
     * have started against the old, unreachable master. However often that happens, one pull follows.
     */
    record Following(Instant since, String reason, String followUp) implements Phase {
        public String label() {
            return "running, one more owed";
        }
    }

    /**
     * A scheduled or master-UP pull was due while an emerge ran (seen first at {@code since}): portage reads
     * package.env and env/ files as each package builds, so the pull waits for the emerge to end.
     */
    record PutOff(String reason, Instant since) implements Phase {
        public String label() {
            return "put off";
        }
    }

    /**
     * A rollback restored the previous set at {@code since}: scheduled, master-UP and before-run pulls would
     * re-apply the very set the admin rolled back from, so only {@code pull-config} pulls (and ends the hold).
     */
    record Held(Instant since) implements Phase {
        public String label() {
            return "held";
        }
    }

    boolean firstAttemptDone() {
        return firstAttempt.isPresent();
    }

    Optional<Instant> heldSince() {
        return phase instanceof Held h ? Optional.of(h.since()) : Optional.empty();
    }

    SyncState with(Phase next) {
        return new SyncState(next, firstAttempt, last, lastSuccess, unrecovered);
    }

    /** Records how the first attempt ended, unless an earlier one already did. */
    SyncState attempted(String how) {
        return firstAttempt.isPresent() ? this
                : new SyncState(phase, Optional.of(how), last, lastSuccess, unrecovered);
    }
}
