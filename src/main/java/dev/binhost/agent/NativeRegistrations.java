package dev.binhost.agent;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * What a native image must keep for reflection: every record Jackson writes or reads (the run history, the
 * interrupted-run marker, the prefetch state, the control protocol) and the records and enums inside them.
 * Without it the native agent read every history line as torn and lost an interrupted run (issue 17).
 * {@code NativeRegistrationsTest} walks the records' components from the roots and fails on a missing one.
 */
@RegisterForReflection(targets = {
        dev.binhost.agent.emerge.Prefetch.Outcome.class,
        dev.binhost.agent.emerge.Prefetch.Result.class,
        dev.binhost.agent.emerge.RunPhase.class,
        dev.binhost.agent.emerge.UpdateRunner.Marker.class,
        dev.binhost.agent.emerge.UpdateRunner.RecordsMark.class,
        dev.binhost.agent.followup.FollowUp.class,
        dev.binhost.agent.followup.Item.Status.class,
        dev.binhost.agent.followup.Item.class,
        dev.binhost.agent.history.RunOutcome.class,
        dev.binhost.agent.history.RunRecord.Check.class,
        dev.binhost.agent.history.RunRecord.Compiled.class,
        dev.binhost.agent.history.RunRecord.Merge.class,
        dev.binhost.agent.history.RunRecord.Missing.class,
        dev.binhost.agent.history.RunRecord.Plan.class,
        dev.binhost.agent.history.RunRecord.class,
        dev.binhost.agent.portage.Finding.Level.class
})
public final class NativeRegistrations {
    private NativeRegistrations() {
    }
}
