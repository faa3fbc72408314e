package dev.binhost.agent.emerge;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.health.Loop;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import io.quarkus.logging.Log;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs update runs one at a time and coalesces requests, on one {@link Loop} thread: its step queues what is
 * due (the cron time plus random delay, a catch-up, the retry of a blocked run or resume), runs a queued run to
 * its end, and returns when it is next due; a request wakes it. Where it is, is one {@link UpdateState} value,
 * changed by {@link UpdateState#on}. Plain class; the CDI service wraps it.
 *
 * <p>The run runs on the loop's thread. A step that runs no run is memory work (and, once, the history read
 * below), bounded by {@link #STEP}; a step that runs one declares a whole run's bound first ({@link #runBound}:
 * the plan, the emerge and the notify command each have a deadline the process runner enforces, plus a grace for
 * the preconditions and the config pull). Past either, the agent's own code is stuck, not a long emerge.
 *
 * <p>The first step does what start-up must not wait for: it reads the history (the last-success gauge) and
 * records a run the last agent left unfinished, which reads that run's whole emerge log (seconds for a large
 * one), then queues its {@code emerge --resume} when configured. Being on the loop's thread, it comes before any
 * run.
 */
public final class UpdateLoop implements AutoCloseable {
    /** Beyond the run's deadlines: the preconditions (a /proc scan, the config pull's own deadlines). */
    static final Duration GRACE = Duration.ofMinutes(15);
    /** A step that runs no run: the schedule, the state, the first step's history and emerge-log read. */
    static final Duration STEP = Duration.ofMinutes(5);

    private final UpdateRunner runner;
    private final UpdateSchedule schedule;
    private final Duration retryInterval;
    private final boolean resumeInterrupted;
    /** How often an emerge left running across the agent's restart is checked for its end. */
    static final Duration ORPHAN_POLL = Duration.ofSeconds(5);
    private final Clock clock;
    private final Loop loop;
    private final Duration runBound;
    private UpdateState state = UpdateState.IDLE;
    private CompletableFuture<RunRecord> last;
    private boolean started;
    private boolean recovered;
    /** The download-only step of an http slave, or null; due at {@link #prefetchDue}, run between runs. */
    private final Prefetch prefetch;
    private volatile Instant prefetchDue;

    public UpdateLoop(UpdateRunner runner, UpdateSchedule schedule, UpdateConfig config, Clock clock,
            Heartbeats heartbeats) {
        this(runner, schedule, config, clock, heartbeats, null);
    }

    public UpdateLoop(UpdateRunner runner, UpdateSchedule schedule, UpdateConfig config, Clock clock,
            Heartbeats heartbeats, Prefetch prefetch) {
        this.prefetch = prefetch;
        this.prefetchDue = prefetch == null ? null : prefetch.nextAfter(clock.instant()).orElse(null);
        this.runner = runner;
        this.schedule = schedule;
        this.retryInterval = config.retryInterval();
        this.resumeInterrupted = config.resumeInterrupted();
        this.clock = clock;
        this.runBound = runBound(config);
        this.loop = new Loop("update", clock, heartbeats, STEP, this::step);
    }

    /** How long a step that runs a run may take: a whole run, by its deadlines. */
    public static Duration runBound(UpdateConfig config) {
        return config.planDeadline().plus(config.runDeadline()).plus(config.notifyDeadline()).plus(GRACE);
    }

    public UpdateRunner runner() {
        return runner;
    }

    public UpdateSchedule schedule() {
        return schedule;
    }

    public synchronized UpdateState state() {
        return state;
    }

    /** Starts the loop: its first step runs a queued run or waits for the schedule. */
    public void start() {
        synchronized (this) {
            started = true;
        }
        loop.start();
    }

    /** Asks for a run; returns at once. */
    public TriggerOutcome request(UpdateRunner.Reason reason, String requestedBy) {
        if (reason == UpdateRunner.Reason.TRIGGER && !(state() instanceof UpdateState.Running)
                && !(state() instanceof UpdateState.Queued)) {
            // answer what will happen: a run that its preconditions would skip is refused now, saying why
            List<RunRecord.Check> blocking = runner.blockingNow();
            if (!blocking.isEmpty()) {
                return new TriggerOutcome(TriggerOutcome.Result.REFUSED, "not queued: a run now would be blocked by "
                        + String.join(", ", blocking.stream().map(c -> c.name() + " (" + c.detail() + ")").toList()));
            }
        }
        TriggerOutcome answer;
        boolean wake;
        synchronized (this) {
            answer = transition(new UpdateState.Request(reason, requestedBy));
            wake = started && answer.result() == TriggerOutcome.Result.QUEUED;
        }
        if (wake) {
            loop.wake();
        }
        return answer;
    }

    /** Applies a request; the caller holds the lock. */
    private TriggerOutcome transition(UpdateState.Request request) {
        UpdateState.Next next = UpdateState.on(state, request);
        state = next.state();
        TriggerOutcome.Result result = next.answer().orElseThrow();
        return switch (result) {
            case QUEUED -> {
                last = new CompletableFuture<>();
                UpdateState.Queued q = (UpdateState.Queued) state;
                yield new TriggerOutcome(result, "run queued (" + q.reason().name().toLowerCase() + ", by "
                        + q.by() + ")" + runner.orphan().map(o -> "; it starts when emerge pid " + o.pid()
                                + ", left running across the agent's restart, ends").orElse(""));
            }
            case ALREADY_RUNNING -> new TriggerOutcome(result, "a run is in progress: "
                    + runner.current().map(c -> c.id() + " (" + c.phase().tag() + ")").orElse("starting"));
            case ALREADY_QUEUED -> new TriggerOutcome(result, "a run is already queued");
            case REFUSED -> new TriggerOutcome(result, "refused");
        };
    }

    /** The loop's step: queues what is due, runs a queued run to its end, says when it is next due. */
    private Instant step(Instant now) {
        if (!recovered) {
            recovered = true;
            recover();
        }
        if (runner.orphan().isPresent()) {
            // no run starts while the emerge the agent left running goes on; queued ones wait for its end
            try {
                if (runner.watchOrphan().isEmpty()) {
                    return now.plus(ORPHAN_POLL);
                }
            } catch (IOException | RuntimeException e) {
                Log.errorf(e, "Cannot record the run of the emerge left running across the restart");
            }
        }
        UpdateState.Queued queued = null;
        synchronized (this) {
            UpdateState.dueAt(state, now, schedule.due()).ifPresent(this::transition);
            if (state instanceof UpdateState.Queued q) {
                queued = q;
            }
        }
        if (queued != null) {
            loop.stepMayTake(runBound);
            run(queued);
            now = clock.instant();
            if (prefetchDue != null && !now.isBefore(prefetchDue)) {
                // the run fetched what it needed: a prefetch due meanwhile has nothing left to do
                prefetchDue = prefetch.nextAfter(now).orElse(null);
            }
        } else if (prefetchDue != null && !now.isBefore(prefetchDue)) {
            loop.stepMayTake(prefetch.deadline().plus(GRACE));
            prefetch.run();
            now = clock.instant();
            prefetchDue = prefetch.nextAfter(now).orElse(null);
        }
        synchronized (this) {
            return earliest(UpdateState.nextDue(state, now, schedule.nextDue()), prefetchDue);
        }
    }

    private static Instant earliest(Instant a, Instant b) {
        return a == null ? b : b == null || a.isBefore(b) ? a : b;
    }

    /** The first step's work; a state-file fault is logged and the loop goes on. */
    private void recover() {
        long t0 = System.nanoTime();
        try {
            runner.load();
            runner.recoverInterrupted().ifPresent(r -> {
                if (resumeInterrupted && r.log() != null) {
                    Log.infof("Resuming interrupted run %s with emerge --resume", r.id());
                    TriggerOutcome queued;
                    synchronized (this) {
                        // this step runs what it queues: no wake
                        queued = transition(new UpdateState.Request(UpdateRunner.Reason.RESUME, "restart"));
                    }
                    if (queued.result() != TriggerOutcome.Result.QUEUED) {
                        Log.infof("Resume of %s not queued: %s", r.id(), queued.message());
                    }
                }
            });
        } catch (IOException | RuntimeException e) {
            // a state-file fault must not stop the agent (its supervisor would restart it into the same fault)
            Log.errorf(e, "Cannot check for an interrupted update run");
        }
        Log.debugf("Update loop: history and interrupted-run check took %d ms", (System.nanoTime() - t0) / 1_000_000);
    }

    private void run(UpdateState.Queued queued) {
        RunAttempt attempt = runner.begin(queued.reason(), queued.by());
        RunRecord recorded = null;
        try {
            try (RunAttempt first = attempt) {
                synchronized (this) {
                    state = UpdateState.on(state, new UpdateState.Started(first.id())).state();
                }
                runner.perform(first);
            }
            recorded = attempt.record();
            boolean scheduled = queued.reason() == UpdateRunner.Reason.SCHEDULE
                    || queued.reason() == UpdateRunner.Reason.CATCH_UP;
            schedule.ran(scheduled, recorded.outcome().gotThrough());
            // what the run calls for (the rest after Portage, @preserved-rebuild) runs now, in the same Running state
            for (Optional<RunAttempt> more = runner.next(recorded); more.isPresent(); more = runner.next(recorded)) {
                attempt = more.get();
                try (RunAttempt follow = attempt) {
                    runner.perform(follow);
                }
                recorded = attempt.record();
            }
        } finally {
            CompletableFuture<RunRecord> done;
            synchronized (this) {
                RunOutcome outcome = attempt.outcome().orElse(RunOutcome.ERROR);
                // a blocked resume is owed: at start-up it is asked for before the first master probe
                state = UpdateState.on(state, new UpdateState.Ended(outcome, clock.instant().plus(retryInterval)))
                        .state();
                done = last;
            }
            if (done != null) {
                if (recorded != null) {
                    done.complete(recorded);
                } else {
                    done.completeExceptionally(new IllegalStateException("run " + attempt.id() + " not recorded"));
                }
            }
        }
    }

    /**
     * The master came UP: a resume or a scheduled run that a precondition (most often master-up) blocked is
     * retried now rather than at its retry time. Nothing else changes: the step decides what is due.
     */
    public void masterCameUp() {
        boolean owed;
        synchronized (this) {
            owed = schedule.retryOwedNow();
            if (state instanceof UpdateState.ResumeOwed) {
                state = new UpdateState.ResumeOwed(clock.instant());
                owed = true;
            }
        }
        if (owed) {
            loop.wake();
        }
    }

    public synchronized boolean busy() {
        return state instanceof UpdateState.Queued || state instanceof UpdateState.Running;
    }

    /** Waits for the last queued run (tests, shutdown). */
    public Optional<RunRecord> awaitLast(long timeout, TimeUnit unit) throws Exception {
        CompletableFuture<RunRecord> f;
        synchronized (this) {
            f = last;
        }
        return f == null ? Optional.empty() : Optional.of(f.get(timeout, unit));
    }

    /** Runs {@code work} on the loop's thread, after what runs now (a run): tests use it to hold the loop. */
    public void execute(Runnable work) {
        loop.execute(work);
    }

    /** Waits until the loop's thread has done what it had to do so far (tests). */
    public void awaitIdle() throws Exception {
        loop.awaitIdle();
    }

    /** When the next prefetch is due; empty when none is configured (or its cron never fires again). */
    public Optional<Instant> prefetchDue() {
        return Optional.ofNullable(prefetchDue);
    }

    /** When the loop's step is next due, or null when it waits for a trigger. */
    public Instant due() {
        return loop.due();
    }

    /** The "update" section of status. */
    public Map<String, Object> status() {
        UpdateState now = state();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", now.tag());
        m.put("running", runner.current().map(c -> {
            Map<String, Object> cur = new LinkedHashMap<>();
            EmergeProgress.Snapshot s = c.progress().snapshot();
            cur.put("id", c.id());
            cur.put("reason", c.reason().tag());
            cur.put("phase", c.phase().tag());
            cur.put("startedAt", c.startedAt().toString());
            cur.put("progress", s.display());
            cur.put("index", s.index());
            cur.put("total", s.total());
            return (Object) cur;
        }).orElse(null));
        m.put("queued", now instanceof UpdateState.Queued);
        runner.orphan().ifPresent(o -> m.put("orphan", "emerge pid " + o.pid() + " of run " + o.marker().record().id()
                + ", left running across the agent's restart; recorded when it ends"));
        m.put("pending", runner.pending());
        m.put("last", runner.history().last().map(r -> {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("id", r.id());
            l.put("reason", r.reason());
            l.put("outcome", r.outcome().tag());
            l.put("message", r.message());
            l.put("startedAt", r.startedAt());
            l.put("endedAt", r.endedAt());
            l.put("binaries", r.plan() == null ? null : r.plan().binaries());
            l.put("compiled", r.plan() == null ? null : r.plan().compiled());
            if (r.plan() != null && r.plan().fetched() != null) {
                l.put("fetched", r.plan().fetched());
            }
            l.put("compiledPackages", r.plan() == null ? null : r.plan().compiledPackages().stream()
                    .map(c -> c.cpv() + ": " + c.detail()).toList());
            l.put("installedBinary", r.installedBinary());
            l.put("installedCompiled", r.installedCompiled());
            l.put("notInstalled", r.merge() == null ? null : r.merge().notInstalled().stream()
                    .map(n -> n.cpv() + ": " + n.why()).toList());
            l.put("notices", r.merge() == null ? null : r.merge().notices());
            l.put("resolution", r.resolution());
            l.put("log", r.log());
            return (Object) l;
        }).orElse(null));
        if (prefetch != null) {
            m.put("prefetch", prefetch.status(prefetchDue));
        }
        m.put("nextScheduled", schedule.nextDue().toString());
        m.put("catchUpOwed", schedule.owed());
        return m;
    }

    /** Stops the loop; a run in progress is interrupted (its emerge survives the agent, as before). */
    @Override
    public void close() {
        loop.close();
    }
}
