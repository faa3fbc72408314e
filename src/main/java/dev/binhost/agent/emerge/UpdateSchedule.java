package dev.binhost.agent.emerge;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When the next scheduled run is due: the cron time plus a random delay, or now when a run was missed (the last
 * run, persisted, is older than the cron time after it) and catch-up is on. A run that its preconditions
 * blocked stays owed and is retried every retry interval until one gets through.
 */
public final class UpdateSchedule {
    private final ExecutionTime cron;
    private final Duration randomDelay;
    private final Duration retryInterval;
    private final boolean catchUp;
    private final Clock clock;
    private Instant dueAt;
    private boolean owed;

    /** A Quartz cron expression (seconds minutes hours day month weekday [year]), as the config mappings check it. */
    static ExecutionTime quartz(String cron) {
        return ExecutionTime.forCron(new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ))
                .parse(cron));
    }

    public UpdateSchedule(String cron, Duration randomDelay, Duration retryInterval, boolean catchUp, Clock clock,
            Optional<Instant> lastRun) {
        this.cron = quartz(cron);
        this.randomDelay = randomDelay;
        this.retryInterval = retryInterval;
        this.catchUp = catchUp;
        this.clock = clock;
        Instant now = clock.instant();
        Optional<Instant> missed = lastRun.flatMap(this::slotAfter).filter(slot -> !slot.isAfter(now));
        if (catchUp && missed.isPresent()) {
            owed = true;
            dueAt = now;
        } else {
            dueAt = nextSlot(now);
        }
    }

    /** The reason to run now, if a run is due. */
    public synchronized Optional<UpdateRunner.Reason> due() {
        if (clock.instant().isBefore(dueAt)) {
            return Optional.empty();
        }
        return Optional.of(owed ? UpdateRunner.Reason.CATCH_UP : UpdateRunner.Reason.SCHEDULE);
    }

    /** Tells the schedule how a run ended: {@code gotThrough} is false when a precondition blocked it. */
    public synchronized void ran(boolean scheduled, boolean gotThrough) {
        Instant now = clock.instant();
        if (gotThrough) {
            owed = false;
            if (scheduled || !dueAt.isAfter(now)) {
                dueAt = nextSlot(now);
            }
        } else if (scheduled) {
            owed = catchUp;
            dueAt = catchUp ? now.plus(retryInterval) : nextSlot(now);
        }
    }

    /**
     * A run blocked by a precondition is retried now instead of at its retry time (the master just came UP).
     * True when one was owed.
     */
    public synchronized boolean retryOwedNow() {
        if (!owed) {
            return false;
        }
        dueAt = clock.instant();
        return true;
    }

    public synchronized Instant nextDue() {
        return dueAt;
    }

    public synchronized boolean owed() {
        return owed;
    }

    private Optional<Instant> slotAfter(Instant t) {
        return cron.nextExecution(ZonedDateTime.ofInstant(t, clock.getZone())).map(ZonedDateTime::toInstant);
    }

    private Instant nextSlot(Instant now) {
        Instant slot = slotAfter(now).orElse(Instant.MAX);
        long jitter = randomDelay.toMillis();
        return jitter <= 0 || slot.equals(Instant.MAX) ? slot
                : slot.plusMillis(ThreadLocalRandom.current().nextLong(jitter + 1));
    }
}
