package dev.binhost.agent.sync;

/** What can happen to the pull cycle; {@link SyncMachine#next} turns each into the next {@link SyncState}. */
sealed interface SyncEvent {
    /**
     * The loop's step: its due time came (the schedule, an owed pull, the put-off re-check) or it was woken.
     * {@code emergeRunning} is what the step saw just before: scheduled and master-UP pulls wait for an emerge.
     */
    record Due(boolean emergeRunning) implements SyncEvent {
    }

    /** The master watch declared the master UP (and binhost.sync.pull-on-master-up is on). */
    record MasterUp() implements SyncEvent {
    }

    /** The update runner pulls right before a run; never put off (the runner checks for other emerges). */
    record BeforeRun() implements SyncEvent {
    }

    /** The admin's {@code pull-config}: never put off, ends a hold. */
    record OnDemand(String reason) implements SyncEvent {
    }

    /** The running pull ended; {@code applyInterrupted}: an interrupted apply is still on disk after it. */
    record PullFinished(PullResult result, boolean applyInterrupted) implements SyncEvent {
    }

    /** {@code rollback-config} restored the previous set: pulls are held there. */
    record RolledBack() implements SyncEvent {
    }
}
