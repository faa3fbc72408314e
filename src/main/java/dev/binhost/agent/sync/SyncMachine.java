package dev.binhost.agent.sync;

import dev.binhost.agent.sync.SyncEvent.BeforeRun;
import dev.binhost.agent.sync.SyncEvent.Due;
import dev.binhost.agent.sync.SyncEvent.MasterUp;
import dev.binhost.agent.sync.SyncEvent.OnDemand;
import dev.binhost.agent.sync.SyncEvent.PullFinished;
import dev.binhost.agent.sync.SyncEvent.RolledBack;
import dev.binhost.agent.sync.SyncState.Following;
import dev.binhost.agent.sync.SyncState.Held;
import dev.binhost.agent.sync.SyncState.Idle;
import dev.binhost.agent.sync.SyncState.Owed;
import dev.binhost.agent.sync.SyncState.Phase;
import dev.binhost.agent.sync.SyncState.PutOff;
import dev.binhost.agent.sync.SyncState.Running;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The pull cycle's rules as a pure function: {@link #next} maps a state, an event and the time to the next state
 * and whether a pull starts now; {@link #due} says when the loop must next look. No thread, clock or file here:
 * {@link ConfigSync} feeds the events and does the work, tests feed the events by hand.
 *
 * @param interval     binhost.sync.interval; zero turns the schedule off
 * @param jitterMillis draws the random extra delay (0..binhost.sync.jitter) of the next scheduled pull
 */
record SyncMachine(Duration interval, LongSupplier jitterMillis) {
    /**
     * While a pull is put off, the loop re-checks for the emerge this often: nothing announces an emerge's end,
     * a pull 30 s late after an hours-long emerge costs nothing, and two checks a minute cost nothing either.
     */
    static final Duration PUT_OFF_RECHECK = Duration.ofSeconds(30);
    static final String SCHEDULE = "schedule";
    static final String MASTER_UP = "master up";
    static final String BEFORE_RUN = "before update run";
    static final String PUT_OFF = "put off: an emerge is running";

    /** The next state, and the reason of the pull to start now (empty: none starts). */
    record Transition(SyncState state, Optional<String> pull) {
        static Transition stay(SyncState s) {
            return to(s);
        }

        static Transition to(SyncState s) {
            return new Transition(s, Optional.empty());
        }

        static Transition pull(SyncState s, Instant now, String reason) {
            return new Transition(s.with(new Running(now, reason)), Optional.of(reason));
        }
    }

    /** At start: held when a rollback's hold is on disk, else the first scheduled pull is due now. */
    SyncState initial(Optional<Instant> heldSince, Optional<Instant> lastSuccess, Optional<String> unrecovered,
            Instant now) {
        Phase phase = heldSince.<Phase>map(Held::new).orElseGet(() -> new Idle(scheduleOn() ? Optional.of(now)
                : Optional.empty()));
        return new SyncState(phase, Optional.empty(), Optional.empty(), lastSuccess, unrecovered);
    }

    Transition next(SyncState s, SyncEvent event, Instant now) {
        Phase p = s.phase();
        // A pull runs only on the loop's thread, and the loop hands it the step and the callers' work one at a
        // time, so Due, BeforeRun, OnDemand and RolledBack never meet a running pull: they leave it alone.
        boolean pulling = p instanceof Running || p instanceof Following;
        if (event instanceof Due d) {
            return pulling ? Transition.stay(s) : due(s, d.emergeRunning(), now);
        }
        if (event instanceof MasterUp) {
            if (p instanceof Idle) {
                return Transition.to(s.with(new Owed(MASTER_UP)));
            }
            if (p instanceof Running r) {
                return Transition.to(s.with(new Following(r.since(), r.reason(), MASTER_UP)));
            }
            if (p instanceof Held h) {
                return Transition.to(s.attempted(held(h)));
            }
            // Owed, Following, PutOff: a pull is owed already; one serves every UP.
            return Transition.stay(s);
        }
        if (event instanceof BeforeRun) {
            // An owed or put-off pull is served by this one; a held set is not pulled over.
            return pulling || p instanceof Held ? Transition.stay(s) : Transition.pull(s, now, BEFORE_RUN);
        }
        if (event instanceof OnDemand o) {
            // Held included: the admin's pull ends the hold.
            return pulling ? Transition.stay(s) : Transition.pull(s, now, o.reason());
        }
        if (event instanceof PullFinished f) {
            return Transition.to(finished(s, f, now));
        }
        if (event instanceof RolledBack) {
            return Transition.to(s.with(new Held(now)));
        }
        throw new IllegalArgumentException("unknown event " + event);
    }

    private static Transition due(SyncState s, boolean emergeRunning, Instant now) {
        Phase p = s.phase();
        if (p instanceof Idle i) {
            return i.next().isEmpty() || now.isBefore(i.next().get()) ? Transition.stay(s)
                    : owed(s, SCHEDULE, emergeRunning, now);
        }
        if (p instanceof Owed o) {
            return owed(s, o.reason(), emergeRunning, now);
        }
        if (p instanceof PutOff po) {
            return emergeRunning ? Transition.stay(s) : Transition.pull(s, now, po.reason());
        }
        if (p instanceof Held h) {
            return Transition.to(s.attempted(held(h)));
        }
        return Transition.stay(s);
    }

    private static Transition owed(SyncState s, String reason, boolean emergeRunning, Instant now) {
        if (emergeRunning) {
            // "started" means the agent got as far as trying: a slave where emerge runs for hours is started.
            return Transition.to(s.with(new PutOff(reason, now)).attempted(PUT_OFF));
        }
        return Transition.pull(s, now, reason);
    }

    private SyncState finished(SyncState s, PullFinished f, Instant now) {
        PullResult r = f.result();
        Phase phase;
        if (s.phase() instanceof Following fl) {
            phase = new Owed(fl.followUp() + ", after a pull that was running");
        } else if (s.phase() instanceof Held h) {
            phase = h;
        } else {
            phase = new Idle(scheduleOn() ? Optional.of(now.plus(interval)
                    .plusMillis(Math.max(0, jitterMillis.getAsLong()))) : Optional.empty());
        }
        return new SyncState(phase, Optional.of(s.firstAttempt().orElse(r.outcome().name())), Optional.of(r),
                r.succeeded() ? Optional.of(r.at()) : s.lastSuccess(),
                // Every pull first finishes an interrupted apply; one still on disk now could not be finished.
                f.applyInterrupted() ? Optional.of(r.message()) : Optional.empty());
    }

    /**
     * When the loop must next run its step: the scheduled pull, now for an owed one, the put-off re-check, or
     * never (null) when nothing is scheduled or owed (schedule off, held): an event wakes it then.
     */
    Instant due(SyncState s, Instant now) {
        Phase p = s.phase();
        if (p instanceof Idle i) {
            return i.next().orElse(null);
        }
        if (p instanceof Owed) {
            return now;
        }
        if (p instanceof PutOff) {
            return now.plus(PUT_OFF_RECHECK);
        }
        return null;
    }

    private boolean scheduleOn() {
        return !interval.isZero();
    }

    static String held(Held h) {
        return "held at the set rolled back at " + h.since();
    }
}
