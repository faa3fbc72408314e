package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.process.DaemonThreads;
import dev.binhost.agent.spi.UpdateTrigger;
import io.quarkus.logging.Log;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs update runs one at a time on a thread of its own and coalesces requests: while a run is queued or
 * running, more requests (schedule ticks, manual triggers) add nothing. Plain class; the CDI service wraps it.
 */
public final class UpdateLoop {
    private final UpdateRunner runner;
    private final UpdateSchedule schedule;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(DaemonThreads.named("update-run"));
    private boolean queued;
    private boolean running;
    private Future<RunRecord> last;
    private volatile boolean resumeOwed;

    public UpdateLoop(UpdateRunner runner, UpdateSchedule schedule) {
        this.runner = runner;
        this.schedule = schedule;
    }

    public UpdateRunner runner() {
        return runner;
    }

    /** Asks for a run; returns at once. */
    public synchronized UpdateTrigger.Outcome request(UpdateRunner.Reason reason, String requestedBy) {
        if (running) {
            return new UpdateTrigger.Outcome(UpdateTrigger.Result.ALREADY_RUNNING, "a run is in progress: "
                    + runner.current().map(c -> c.id() + " (" + c.phase() + ")").orElse("starting"));
        }
        if (queued) {
            return new UpdateTrigger.Outcome(UpdateTrigger.Result.ALREADY_QUEUED, "a run is already queued");
        }
        queued = true;
        last = executor.submit(() -> runQueued(reason, requestedBy));
        return new UpdateTrigger.Outcome(UpdateTrigger.Result.QUEUED, "run queued (" + reason.name().toLowerCase()
                + ", by " + requestedBy + ")");
    }

    private RunRecord runQueued(UpdateRunner.Reason reason, String requestedBy) {
        synchronized (this) {
            queued = false;
            running = true;
        }
        try {
            RunRecord r = runner.run(reason, requestedBy);
            if (reason == UpdateRunner.Reason.RESUME && "skipped".equals(r.outcome())) {
                // At start-up the resume is asked for before the first master probe; keep it owed until a tick
                // finds the preconditions met, as a blocked catch-up is.
                resumeOwed = true;
            }
            boolean scheduled = reason == UpdateRunner.Reason.SCHEDULE || reason == UpdateRunner.Reason.CATCH_UP;
            schedule.ran(scheduled, !"skipped".equals(r.outcome()));
            return r;
        } catch (RuntimeException e) {
            Log.errorf(e, "Update run (%s) failed unexpectedly", reason);
            throw e;
        } finally {
            synchronized (this) {
                running = false;
            }
        }
    }

    /** The scheduler's tick: queues a run when the schedule says one is due. */
    public void tick() {
        if (resumeOwed) {
            resumeOwed = false;
            request(UpdateRunner.Reason.RESUME, "restart (retry)");
            return;
        }
        schedule.due().ifPresent(reason -> request(reason, "schedule"));
    }

    public synchronized boolean busy() {
        return queued || running;
    }

    /** Waits for the last queued run (tests, shutdown). */
    public Optional<RunRecord> awaitLast(long timeout, TimeUnit unit) throws Exception {
        Future<RunRecord> f;
        synchronized (this) {
            f = last;
        }
        return f == null ? Optional.empty() : Optional.of(f.get(timeout, unit));
    }

    public UpdateSchedule schedule() {
        return schedule;
    }

    /** The "update" section of status. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("running", runner.current().map(c -> {
            Map<String, Object> cur = new LinkedHashMap<>();
            EmergeProgress.Snapshot s = c.progress().snapshot();
            cur.put("id", c.id());
            cur.put("reason", c.reason().name().toLowerCase().replace('_', '-'));
            cur.put("phase", c.phase());
            cur.put("startedAt", c.startedAt().toString());
            cur.put("progress", s.display());
            cur.put("index", s.index());
            cur.put("total", s.total());
            return (Object) cur;
        }).orElse(null));
        m.put("queued", queued);
        m.put("pending", runner.pending());
        m.put("last", runner.history().last().map(r -> {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("id", r.id());
            l.put("reason", r.reason());
            l.put("outcome", r.outcome());
            l.put("message", r.message());
            l.put("startedAt", r.startedAt());
            l.put("endedAt", r.endedAt());
            l.put("binaries", r.plan() == null ? null : r.plan().binaries());
            l.put("compiled", r.plan() == null ? null : r.plan().compiled());
            l.put("compiledPackages", r.plan() == null ? null : r.plan().compiledPackages().stream()
                    .map(c -> c.cpv() + ": " + c.detail()).toList());
            l.put("log", r.log());
            return (Object) l;
        }).orElse(null));
        m.put("nextScheduled", schedule.nextDue().toString());
        m.put("catchUpOwed", schedule.owed());
        return m;
    }

    public void shutdown() {
        executor.shutdownNow();
    }
}
