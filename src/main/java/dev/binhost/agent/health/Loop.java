package dev.binhost.agent.health;

import dev.binhost.agent.process.DaemonThreads;
import io.quarkus.logging.Log;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One of the agent's loops, on its own thread: the step runs at the moment it said it is next due (a probe
 * interval plus jitter, a retry time, a cron time), so an idle agent sleeps instead of waking on a fixed tick.
 * Events (the master came UP, a trigger) {@link #wake()} it early; other work for the same component is
 * {@link #execute serialised} on the same thread, so a component's state has one writer.
 *
 * <p>Liveness comes from due times, not from a heartbeat: before a step the loop tells {@link Heartbeats} it
 * will be done within {@code bound}, after it that it will next run by its due time plus {@code bound}. A step
 * that overruns its bound, or a due step that never starts (the thread is stuck in other work), makes the loop
 * wedged.
 *
 * <p>Waits are cut at {@link #MAX_SLEEP}: the executor sleeps on the monotonic clock, which stands still while a
 * laptop is suspended, and a cron time is a wall-clock time. Each wake re-reads the clock, so a run due during
 * a suspend starts at most five minutes after resume.
 */
public final class Loop implements AutoCloseable {
    public static final Duration MAX_SLEEP = Duration.ofMinutes(5);
    /** Next try after a step threw: the step's own errors are logged, the loop goes on. */
    static final Duration AFTER_ERROR = Duration.ofSeconds(30);

    /**
     * A loop's step: does its work on the loop's thread and returns when it is next due, or null when nothing
     * is due until an event {@link #wake() wakes} it (the schedule is off, no mount is configured).
     */
    @FunctionalInterface
    public interface Step {
        Instant run(Instant now);
    }

    private final String name;
    private final Clock clock;
    private final Heartbeats heartbeats;
    private final Duration bound;
    private final Step step;
    private final ScheduledThreadPoolExecutor thread;
    private final Duration maxSleep;

    private Instant due;
    private ScheduledFuture<?> pending;
    private boolean running;
    private boolean wokenWhileRunning;
    private boolean closed;
    private final Set<CompletableFuture<?>> submitted = ConcurrentHashMap.newKeySet();

    public Loop(String name, Clock clock, Heartbeats heartbeats, Duration bound, Step step) {
        this(name, clock, heartbeats, bound, step, MAX_SLEEP);
    }

    Loop(String name, Clock clock, Heartbeats heartbeats, Duration bound, Step step, Duration maxSleep) {
        this.maxSleep = maxSleep;
        this.name = name;
        this.clock = clock;
        this.heartbeats = heartbeats;
        this.bound = bound;
        this.step = step;
        this.thread = new ScheduledThreadPoolExecutor(1, DaemonThreads.named(name));
        this.thread.setRemoveOnCancelPolicy(true);
        this.thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    public String name() {
        return name;
    }

    /** Starts the loop: its first step runs now. */
    public void start() {
        wake();
    }

    /** Runs the step as soon as the thread is free; during a step, once more right after it. */
    public synchronized void wake() {
        if (running) {
            wokenWhileRunning = true;
            return;
        }
        scheduleAt(clock.instant());
    }

    /**
     * Called by a step that starts work longer than the loop's bound (an update run, bounded by its own deadlines):
     * the loop is wedged only if this step is still running after {@code limit}. The next due time restores the
     * usual bound.
     */
    public void stepMayTake(Duration limit) {
        heartbeats.expect(name, clock.instant().plus(limit));
    }

    /** When the step is next due, or null before the first step was scheduled. */
    public synchronized Instant due() {
        return due;
    }

    /**
     * Runs {@code work} on the loop's thread, after what is running: work that must not race the step (a mount
     * on master UP, a test's probe). Its time counts against the bound like a step's.
     */
    public void execute(Runnable work) {
        try {
            thread.execute(() -> {
                heartbeats.expect(name, clock.instant().plus(bound));
                try {
                    work.run();
                } catch (RuntimeException e) {
                    Log.errorf(e, "%s: %s", name, e.getMessage());
                } finally {
                    restoreExpectation();
                }
            });
        } catch (RejectedExecutionException closing) {
            // The agent is stopping.
        }
    }

    /**
     * Runs {@code work} on the loop's thread, after what is running, and gives its result. The future fails
     * with a {@link java.util.concurrent.CancellationException} when the loop is closed before it ran, so a caller
     * waiting for it (an admin's {@code pull-config}) never waits on an agent that is stopping.
     */
    public <T> CompletableFuture<T> submit(Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        synchronized (this) {
            if (closed) {
                result.cancel(false);
                return result;
            }
            submitted.add(result);
        }
        result.whenComplete((r, e) -> submitted.remove(result));
        execute(() -> {
            try {
                result.complete(work.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        if (closedNow()) {
            result.cancel(false);
        }
        return result;
    }

    private synchronized boolean closedNow() {
        return closed;
    }

    /** Waits until everything handed to the thread so far has run; tests use it. */
    public void awaitIdle() throws Exception {
        thread.submit(() -> { }).get();
    }

    private synchronized void scheduleAt(Instant at) {
        if (closed) {
            return;
        }
        if (at == null) {
            // Nothing due until woken: a loop that waits for an event cannot miss a due time.
            due = null;
            heartbeats.idle(name);
            return;
        }
        if (pending != null) {
            if (due != null && !at.isBefore(due) && !pending.isDone()) {
                return;
            }
            pending.cancel(false);
        }
        due = at;
        heartbeats.expect(name, expectedBy());
        long delay = Math.max(0, Math.min(Duration.between(clock.instant(), at).toMillis(), maxSleep.toMillis()));
        try {
            pending = thread.schedule(this::fire, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            pending = null;
        }
    }

    private synchronized void restoreExpectation() {
        if (running) {
            return;
        }
        if (due == null) {
            heartbeats.idle(name);
        } else {
            heartbeats.expect(name, expectedBy());
        }
    }

    private Instant expectedBy() {
        return (due == null ? clock.instant() : due).plus(bound);
    }

    private void fire() {
        Instant now = clock.instant();
        synchronized (this) {
            pending = null;
            if (closed) {
                return;
            }
            if (due != null && now.isBefore(due)) {
                // Woken by the MAX_SLEEP cut: sleep on towards the due time.
                scheduleAt(due);
                return;
            }
            running = true;
            wokenWhileRunning = false;
            heartbeats.expect(name, now.plus(bound));
        }
        Instant next;
        try {
            next = step.run(now);
        } catch (RuntimeException e) {
            Log.errorf(e, "%s: step failed: %s", name, e.getMessage());
            next = clock.instant().plus(AFTER_ERROR);
        }
        synchronized (this) {
            running = false;
            due = null;
            scheduleAt(wokenWhileRunning ? clock.instant() : next);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (pending != null) {
            pending.cancel(false);
        }
        thread.shutdownNow();
        submitted.forEach(f -> f.cancel(false));
        heartbeats.forget(name);
    }
}
