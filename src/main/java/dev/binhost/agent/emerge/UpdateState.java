package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunOutcome;

import java.time.Instant;
import java.util.Optional;

/**
 * Where the update loop is, as one value, and its transitions as a pure function ({@link #on}) tested without
 * threads. Idle waits for the schedule or a trigger; queued has a run to start; running has one in progress;
 * resume owed is idle with an {@code emerge --resume} still to do because the last try was blocked.
 *
 * <p>Requests coalesce: while a run is queued or running, another adds nothing. While a resume is owed, any
 * request queues that resume: it finishes the interrupted world update, which is what a run now asks for, and
 * a resume is never dropped by a trigger that came first.
 */
public sealed interface UpdateState {
    /** Waiting for the schedule or a trigger. */
    record Idle() implements UpdateState {
        public String tag() {
            return "idle";
        }
    }

    /** A run is to start: why and who asked. */
    record Queued(UpdateRunner.Reason reason, String by) implements UpdateState {
        public String tag() {
            return "queued";
        }
    }

    /** A run is in progress. */
    record Running(String runId, UpdateRunner.Reason reason) implements UpdateState {
        public String tag() {
            return "running";
        }
    }

    /** An {@code emerge --resume} was blocked by a precondition; it is tried again at {@code retryAt}. */
    record ResumeOwed(Instant retryAt) implements UpdateState {
        public String tag() {
            return "resume-owed";
        }
    }

    UpdateState IDLE = new Idle();

    /** What can happen to the loop. */
    sealed interface Event {
    }

    /** A run is asked for (schedule, catch-up, resume retry, trigger). */
    record Request(UpdateRunner.Reason reason, String by) implements Event {
    }

    /** The queued run started as {@code runId}. */
    record Started(String runId) implements Event {
    }

    /** The run ended with {@code outcome}; a blocked resume is owed again from {@code retryAt}. */
    record Ended(RunOutcome outcome, Instant retryAt) implements Event {
    }

    /** The state after an event, and the answer to a request (empty for other events). */
    record Next(UpdateState state, Optional<TriggerOutcome.Result> answer) {
        static Next to(UpdateState state) {
            return new Next(state, Optional.empty());
        }

        static Next answer(UpdateState state, TriggerOutcome.Result answer) {
            return new Next(state, Optional.of(answer));
        }
    }

    /** The transition: pure, no clock, no thread. An event that cannot happen in {@code s} is a bug and throws. */
    static Next on(UpdateState s, Event e) {
        if (e instanceof Request r) {
            if (s instanceof Running) {
                return Next.answer(s, TriggerOutcome.Result.ALREADY_RUNNING);
            }
            if (s instanceof Queued) {
                return Next.answer(s, TriggerOutcome.Result.ALREADY_QUEUED);
            }
            UpdateRunner.Reason reason = s instanceof ResumeOwed ? UpdateRunner.Reason.RESUME : r.reason();
            return Next.answer(new Queued(reason, r.by()), TriggerOutcome.Result.QUEUED);
        }
        if (e instanceof Started st && s instanceof Queued q) {
            return Next.to(new Running(st.runId(), q.reason()));
        }
        if (e instanceof Ended end && s instanceof Running run) {
            return Next.to(run.reason() == UpdateRunner.Reason.RESUME && !end.outcome().gotThrough()
                    ? new ResumeOwed(end.retryAt()) : IDLE);
        }
        throw new IllegalStateException(e + " cannot happen while " + s);
    }

    /**
     * The request that is due at {@code now}, if any. While a resume is owed, only its retry: the resume is the
     * interrupted update, and a schedule slot that passes meanwhile is used up when it gets through. Else what
     * the schedule says is due (a scheduled run, a catch-up).
     */
    static Optional<Request> dueAt(UpdateState s, Instant now, Optional<UpdateRunner.Reason> scheduled) {
        if (s instanceof ResumeOwed owed) {
            return now.isBefore(owed.retryAt()) ? Optional.empty()
                    : Optional.of(new Request(UpdateRunner.Reason.RESUME, "restart (retry)"));
        }
        return s instanceof Idle ? scheduled.map(reason -> new Request(reason, "schedule")) : Optional.empty();
    }

    /**
     * When the loop must next look, given when the schedule is next due ({@link Instant#MAX}: never): now for a
     * queued run, the resume's retry when one is owed, the schedule when idle; null when nothing is ever due
     * (only a trigger can wake the loop).
     */
    static Instant nextDue(UpdateState s, Instant now, Instant scheduleDue) {
        Instant due;
        if (s instanceof ResumeOwed owed) {
            due = owed.retryAt();
        } else if (s instanceof Idle) {
            due = scheduleDue;
        } else {
            due = now;
        }
        return Instant.MAX.equals(due) ? null : due;
    }

    /** The state's name in status: idle, queued, running, resume-owed. */
    String tag();
}
