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
import dev.binhost.agent.sync.SyncState.PutOff;
import dev.binhost.agent.sync.SyncState.Running;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pull cycle's rules, event by event, without a thread, a clock or rsync. */
class SyncMachineTest {
    static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    static final Duration HOUR = Duration.ofHours(1);
    /** Hourly, with a fixed 90 s of "jitter" so due times are exact. */
    final SyncMachine hourly = new SyncMachine(HOUR, () -> 90_000);
    final SyncMachine off = new SyncMachine(Duration.ZERO, () -> 0);

    static PullResult result(PullResult.Outcome outcome, Instant at) {
        return new PullResult(outcome, at, Duration.ofMillis(50), Changes.NONE, outcome.tag(), Optional.empty());
    }

    static Instant at(long seconds) {
        return T0.plusSeconds(seconds);
    }

    SyncState start(SyncMachine m) {
        return m.initial(Optional.empty(), Optional.empty(), Optional.empty(), T0);
    }

    @Test
    void schedule_firstPullIsDueAtStart_thenIntervalPlusJitterAfterEachPull() {
        SyncState s = start(hourly);
        assertEquals(new Idle(Optional.of(T0)), s.phase());
        assertEquals(T0, hourly.due(s, T0));

        SyncMachine.Transition t = hourly.next(s, new Due(false), T0);
        assertEquals(Optional.of(SyncMachine.SCHEDULE), t.pull());
        assertEquals(new Running(T0, SyncMachine.SCHEDULE), t.state().phase());
        assertNull(hourly.due(t.state(), T0), "nothing is due while the loop's thread pulls");

        SyncState after = hourly.next(t.state(), new PullFinished(result(PullResult.Outcome.APPLIED, T0), false),
                at(2)).state();
        Instant next = at(2).plus(HOUR).plusSeconds(90);
        assertEquals(new Idle(Optional.of(next)), after.phase());
        assertEquals(next, hourly.due(after, at(3)), "the loop sleeps until the next scheduled pull");
        assertEquals(Optional.of(T0), after.lastSuccess());
        assertEquals(Optional.of("APPLIED"), after.firstAttempt());

        SyncMachine.Transition early = hourly.next(after, new Due(false), at(60));
        assertEquals(Optional.empty(), early.pull(), "a step before the due time pulls nothing");
        assertEquals(after, early.state());
    }

    @Test
    void scheduleOff_nothingIsDue_untilAnEventOwesAPull() {
        SyncState s = start(off);
        assertEquals(new Idle(Optional.empty()), s.phase());
        assertNull(off.due(s, T0), "schedule off: the loop waits for an event");
        assertEquals(Optional.empty(), off.next(s, new Due(false), T0).pull());

        SyncState owed = off.next(s, new MasterUp(), at(5)).state();
        assertEquals(new Owed(SyncMachine.MASTER_UP), owed.phase());
        assertEquals(at(5), off.due(owed, at(5)), "an owed pull is due now");
        SyncMachine.Transition run = off.next(owed, new Due(false), at(5));
        assertEquals(Optional.of(SyncMachine.MASTER_UP), run.pull());

        SyncState done = off.next(run.state(), new PullFinished(result(PullResult.Outcome.FAILED, at(6)), false),
                at(6)).state();
        assertEquals(new Idle(Optional.empty()), done.phase());
        assertNull(off.due(done, at(6)));
        assertEquals(Optional.empty(), done.lastSuccess(), "a failed pull is no success");
        assertEquals(Optional.of("FAILED"), done.firstAttempt(), "a failed pull is the first attempt all the same");
    }

    @Test
    void masterUp_whileAPullRuns_owesExactlyOneMoreRightAfter() {
        SyncState s = hourly.next(start(hourly), new Due(false), T0).state();
        for (int i = 0; i < 5; i++) {
            s = hourly.next(s, new MasterUp(), at(1 + i)).state();
        }
        assertEquals(new Following(T0, SyncMachine.SCHEDULE, SyncMachine.MASTER_UP), s.phase(),
                "five UPs during one pull owe one follow-up");

        s = hourly.next(s, new PullFinished(result(PullResult.Outcome.UNCHANGED, T0), false), at(10)).state();
        assertEquals(new Owed("master up, after a pull that was running"), s.phase());
        assertEquals(at(10), hourly.due(s, at(10)), "the follow-up runs right after");

        SyncMachine.Transition follow = hourly.next(s, new Due(false), at(10));
        assertEquals(Optional.of("master up, after a pull that was running"), follow.pull());
        SyncState done = hourly.next(follow.state(),
                new PullFinished(result(PullResult.Outcome.APPLIED, at(10)), false), at(11)).state();
        assertTrue(done.phase() instanceof Idle, "no third pull: " + done.phase());
    }

    @Test
    void scheduledAndMasterUpPulls_arePutOffWhileAnEmergeRuns_andRetriedEvery30s() {
        SyncState s = hourly.next(start(hourly), new Due(true), T0).state();
        assertEquals(new PutOff(SyncMachine.SCHEDULE, T0), s.phase());
        assertEquals(Optional.of(SyncMachine.PUT_OFF), s.firstAttempt(), "a put-off attempt makes the agent started");
        assertEquals(at(30), hourly.due(s, T0), "re-checked every 30 s, not every second");

        SyncMachine.Transition still = hourly.next(s, new Due(true), at(30));
        assertEquals(Optional.empty(), still.pull());
        assertEquals(s, still.state(), "still put off, since the first time the emerge was seen");
        assertEquals(s, hourly.next(s, new MasterUp(), at(31)).state(), "an UP joins the put-off pull");

        SyncMachine.Transition run = hourly.next(s, new Due(false), at(60));
        assertEquals(Optional.of(SyncMachine.SCHEDULE), run.pull(), "the emerge ended: the put-off pull runs");

        SyncState owed = off.next(start(off), new MasterUp(), T0).state();
        SyncState putOff = off.next(owed, new Due(true), T0).state();
        assertEquals(new PutOff(SyncMachine.MASTER_UP, T0), putOff.phase());
    }

    @Test
    void beforeRunAndOnDemand_areNeverPutOff_andServeAnOwedPull() {
        SyncState putOff = hourly.next(start(hourly), new Due(true), T0).state();

        SyncMachine.Transition before = hourly.next(putOff, new BeforeRun(), at(5));
        assertEquals(Optional.of(SyncMachine.BEFORE_RUN), before.pull());
        SyncState done = hourly.next(before.state(), new PullFinished(result(PullResult.Outcome.UNCHANGED, at(5)),
                false), at(6)).state();
        assertTrue(done.phase() instanceof Idle, "the before-run pull served the put-off one: " + done.phase());

        SyncMachine.Transition demand = hourly.next(putOff, new OnDemand("on demand by root"), at(5));
        assertEquals(Optional.of("on demand by root"), demand.pull());
    }

    @Test
    void rollback_holdsEveryPullButTheAdmins_untilPullConfig() {
        SyncState held = hourly.next(start(hourly), new RolledBack(), at(100)).state();
        assertEquals(new Held(at(100)), held.phase());
        assertNull(hourly.due(held, at(100)), "held: nothing is due, the loop sleeps");

        SyncMachine.Transition due = hourly.next(held, new Due(false), at(200));
        assertEquals(Optional.empty(), due.pull());
        assertEquals(Optional.of("held at the set rolled back at " + at(100)), due.state().firstAttempt(),
                "the first attempt meets the hold: started");
        assertEquals(Optional.empty(), hourly.next(held, new BeforeRun(), at(200)).pull(), "the run's pull holds");
        SyncState up = hourly.next(held, new MasterUp(), at(200)).state();
        assertEquals(held.phase(), up.phase());
        assertTrue(up.firstAttemptDone(), "an UP meeting the hold is an attempt");

        SyncMachine.Transition resume = hourly.next(held, new OnDemand("on demand by root"), at(300));
        assertEquals(Optional.of("on demand by root"), resume.pull(), "pull-config ends the hold");
        SyncState after = hourly.next(resume.state(), new PullFinished(result(PullResult.Outcome.APPLIED, at(300)),
                false), at(301)).state();
        assertEquals(new Idle(Optional.of(at(301).plus(HOUR).plusSeconds(90))), after.phase());
    }

    @Test
    void restart_heldAndLastSuccessComeFromDisk() {
        SyncState s = hourly.initial(Optional.of(at(-50)), Optional.of(at(-60)), Optional.empty(), T0);
        assertEquals(new Held(at(-50)), s.phase());
        assertEquals(Optional.of(at(-60)), s.lastSuccess());
        assertEquals(Optional.empty(), s.firstAttempt(), "a restart attempts anew");
    }

    @Test
    void pullFinished_keepsTheLastSuccessOnFailure_andRecordsAnUnfinishedApply() {
        SyncState s = hourly.initial(Optional.empty(), Optional.of(at(-60)), Optional.of("journal unreadable"), T0);
        SyncState running = hourly.next(s, new BeforeRun(), T0).state();
        SyncState failed = hourly.next(running, new PullFinished(result(PullResult.Outcome.FAILED, T0), true),
                at(1)).state();
        assertEquals(Optional.of(at(-60)), failed.lastSuccess());
        assertEquals(Optional.of("failed"), failed.unrecovered(), "still interrupted: the pull's message says why");

        SyncState ok = hourly.next(hourly.next(failed, new BeforeRun(), at(2)).state(),
                new PullFinished(result(PullResult.Outcome.UNCHANGED, at(2)), false), at(3)).state();
        assertEquals(Optional.empty(), ok.unrecovered());
        assertEquals(Optional.of(at(2)), ok.lastSuccess());
    }
}
