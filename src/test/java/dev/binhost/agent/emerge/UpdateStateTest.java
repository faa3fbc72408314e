package dev.binhost.agent.emerge;

import dev.binhost.agent.emerge.UpdateRunner.Reason;
import dev.binhost.agent.emerge.UpdateState.Ended;
import dev.binhost.agent.emerge.UpdateState.Idle;
import dev.binhost.agent.emerge.UpdateState.Queued;
import dev.binhost.agent.emerge.UpdateState.Request;
import dev.binhost.agent.emerge.UpdateState.ResumeOwed;
import dev.binhost.agent.emerge.UpdateState.Running;
import dev.binhost.agent.emerge.UpdateState.Started;
import dev.binhost.agent.history.RunOutcome;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The update loop's transitions, without threads or clocks. */
class UpdateStateTest {
    private static final Instant T0 = Instant.parse("2026-11-25T03:30:00Z");
    private static final Instant LATER = T0.plus(Duration.ofMinutes(10));

    @Test
    void requests_whileQueuedOrRunning_coalesce_withTheSameAnswersAsBefore() {
        UpdateState.Next first = UpdateState.on(UpdateState.IDLE, new Request(Reason.TRIGGER, "admin"));
        assertEquals(new Queued(Reason.TRIGGER, "admin"), first.state());
        assertEquals(Optional.of(TriggerOutcome.Result.QUEUED), first.answer());

        UpdateState.Next again = UpdateState.on(first.state(), new Request(Reason.SCHEDULE, "schedule"));
        assertEquals(first.state(), again.state(), "the queued run keeps its reason and requester");
        assertEquals(Optional.of(TriggerOutcome.Result.ALREADY_QUEUED), again.answer());

        UpdateState running = UpdateState.on(first.state(), new Started("run-1")).state();
        assertEquals(new Running("run-1", Reason.TRIGGER), running);
        UpdateState.Next during = UpdateState.on(running, new Request(Reason.TRIGGER, "other"));
        assertEquals(running, during.state());
        assertEquals(Optional.of(TriggerOutcome.Result.ALREADY_RUNNING), during.answer());

        assertEquals(UpdateState.IDLE, UpdateState.on(running, new Ended(RunOutcome.SUCCESS, LATER)).state());
        assertEquals(UpdateState.IDLE, UpdateState.on(running, new Ended(RunOutcome.SKIPPED, LATER)).state(),
                "a blocked trigger is not owed: the schedule owes scheduled runs");
    }

    @Test
    void resume_blocked_staysOwedUntilItsRetry_thenQueuedAgain_andGoneOnceItGotThrough() {
        UpdateState running = UpdateState.on(new Queued(Reason.RESUME, "restart"), new Started("r")).state();
        UpdateState owed = UpdateState.on(running, new Ended(RunOutcome.SKIPPED, LATER)).state();
        assertEquals(new ResumeOwed(LATER), owed);

        assertEquals(LATER, UpdateState.nextDue(owed, T0, T0.plus(Duration.ofDays(1))));
        assertEquals(Optional.empty(), UpdateState.dueAt(owed, T0, Optional.of(Reason.SCHEDULE)),
                "a passing schedule slot does not jump the owed resume's retry");
        Request retry = UpdateState.dueAt(owed, LATER, Optional.empty()).orElseThrow();
        assertEquals(new Request(Reason.RESUME, "restart (retry)"), retry);

        UpdateState again = UpdateState.on(owed, retry).state();
        assertEquals(new Queued(Reason.RESUME, "restart (retry)"), again);
        UpdateState ran = UpdateState.on(again, new Started("r2")).state();
        assertEquals(UpdateState.IDLE, UpdateState.on(ran, new Ended(RunOutcome.FAILED, LATER)).state(),
                "a resume that got past its preconditions is done, whatever emerge said");
    }

    @Test
    void trigger_whileAResumeIsOwed_queuesTheResume() {
        UpdateState.Next n = UpdateState.on(new ResumeOwed(LATER), new Request(Reason.TRIGGER, "admin"));
        assertEquals(new Queued(Reason.RESUME, "admin"), n.state());
        assertEquals(Optional.of(TriggerOutcome.Result.QUEUED), n.answer());
    }

    @Test
    void dueAndNextDue_idleFollowsTheSchedule_queuedIsNow_neverIsNull() {
        assertEquals(Optional.of(new Request(Reason.CATCH_UP, "schedule")),
                UpdateState.dueAt(UpdateState.IDLE, T0, Optional.of(Reason.CATCH_UP)));
        assertEquals(Optional.empty(), UpdateState.dueAt(UpdateState.IDLE, T0, Optional.empty()));
        assertEquals(Optional.empty(), UpdateState.dueAt(new Running("r", Reason.TRIGGER), T0,
                Optional.of(Reason.SCHEDULE)), "a scheduled time during a run adds nothing");
        assertEquals(LATER, UpdateState.nextDue(UpdateState.IDLE, T0, LATER));
        assertEquals(T0, UpdateState.nextDue(new Queued(Reason.TRIGGER, "a"), T0, LATER));
        assertNull(UpdateState.nextDue(UpdateState.IDLE, T0, Instant.MAX), "no cron time ever: wait for a trigger");
    }

    @Test
    void impossibleEvents_throw() {
        assertThrows(IllegalStateException.class, () -> UpdateState.on(UpdateState.IDLE, new Started("x")));
        assertThrows(IllegalStateException.class,
                () -> UpdateState.on(new Queued(Reason.TRIGGER, "a"), new Ended(RunOutcome.SUCCESS, LATER)));
        assertThrows(IllegalStateException.class,
                () -> UpdateState.on(new Idle(), new Ended(RunOutcome.SUCCESS, LATER)));
    }

    @Test
    void tags_areTheNamesStatusShows() {
        assertEquals("idle", UpdateState.IDLE.tag());
        assertEquals("queued", new Queued(Reason.TRIGGER, "a").tag());
        assertEquals("running", new Running("r", Reason.TRIGGER).tag());
        assertEquals("resume-owed", new ResumeOwed(LATER).tag());
    }
}
