package dev.binhost.agent.sync;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.master.MasterConfig;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.metrics.OwnedMeters;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.DaemonThreads;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.ConfigActions;
import dev.binhost.agent.spi.ConfigRefresher;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.spi.UpdateActivity;
import dev.binhost.agent.spi.Verdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import static dev.binhost.agent.config.Durations.human;

/**
 * When the config is pulled (schedule with jitter, master UP, before each update run, on demand) and what the
 * rest of the agent sees of it: freshness, status, metrics. One pull runs at a time; the work is in
 * {@link ConfigPull}. The scheduler's tick only hands a due pull to this class's own thread.
 */
@ApplicationScoped
public class ConfigSync implements ConfigRefresher, ConfigActions, StatusContributor {
    static final String LOOP = "config-sync";
    private static final Duration TICK = Duration.ofSeconds(10);

    private final SyncConfig config;
    private final ConfigPull pull;
    private final Clock clock;
    private final Heartbeats heartbeats;
    private final MeterRegistry registry;
    private final OwnedMeters gauges;
    private final ReentrantLock lock = new ReentrantLock();
    private final ExecutorService executor;

    private volatile PullResult last;
    private volatile Instant lastSuccessAt;
    /** Set by a rollback: scheduled, master-UP and before-run pulls wait until the admin pulls on demand. */
    private volatile Instant heldSince;
    private volatile boolean firstAttemptDone;
    /** How the first attempt ended when it ran no pull (put off by emerge, held by a rollback). */
    private volatile String firstAttemptNote;
    private volatile Instant nextScheduledAt;
    private volatile Future<?> inFlight;
    private volatile Instant inFlightSince;
    /** Why one more pull must follow the running one (master came UP while it ran), or null. */
    private String followUp;
    /** Is an emerge running? Scheduled and master-UP pulls wait for it to end. */
    private final BooleanSupplier emergeRunning;
    /** The reason of a pull put off because an emerge was running; the tick retries it. */
    private volatile String deferred;
    /** Why an apply a crash interrupted could not be finished at start-up, or null. */
    private volatile String unrecovered;

    @Inject
    public ConfigSync(SyncConfig config, MasterConfig master, AgentConfig agent, ProcessRunner runner, Clock clock,
            Heartbeats heartbeats, MeterRegistry registry, Instance<UpdateActivity> activities) {
        this(config, new ConfigPull(config, new ConfigPull.Source(master.host(), master.rsyncPort(),
                master.rsyncModule()), agent.stateDir(), runner, clock), clock, heartbeats, registry,
                () -> activities.stream().anyMatch(UpdateActivity::emergeRunning));
    }

    ConfigSync(SyncConfig config, ConfigPull pull, Clock clock, Heartbeats heartbeats, MeterRegistry registry,
            BooleanSupplier emergeRunning) {
        this.emergeRunning = emergeRunning;
        this.config = config;
        this.pull = pull;
        this.clock = clock;
        this.heartbeats = heartbeats;
        this.registry = registry;
        this.gauges = new OwnedMeters(registry);
        this.nextScheduledAt = clock.instant();
        // Before anything reads the live tree (a pull, readiness): finish an apply a crash cut short.
        try {
            pull.recover();
        } catch (IOException | RuntimeException e) {
            unrecovered = Names.describe(e);
            Log.errorf("Config: an interrupted apply could not be finished; the live tree may mix two sets: %s",
                    unrecovered);
        }
        // A restart does not make the config on disk any older: freshness goes on from the last recorded success.
        this.lastSuccessAt = pull.lastSuccess().orElse(null);
        this.heldSince = pull.heldSince().orElse(null);
        if (heldSince != null) {
            Log.warnf("Config pulls are held at the set rolled back at %s; `binhost-agent pull-config` resumes them",
                    heldSince);
        }
        this.executor = Executors.newSingleThreadExecutor(DaemonThreads.named("config-pull"));
        for (PullResult.Outcome o : PullResult.Outcome.values()) {
            Counter.builder("binhost.sync.pulls").tag("outcome", o.tag())
                    .description("Config pulls by outcome").register(registry);
        }
        for (String change : List.of("added", "changed", "removed")) {
            Counter.builder("binhost.sync.files").tag("change", change).baseUnit("files")
                    .description("Managed files the config pulls added, changed or removed").register(registry);
        }
        gauges.add(Gauge.builder("binhost.sync.age", this, s -> s.lastSuccessAt == null ? Double.NaN
                        : Duration.between(s.lastSuccessAt, s.clock.instant()).toMillis() / 1000.0)
                .baseUnit("seconds").description("Time since the last successful config pull").register(registry));
        gauges.add(Gauge.builder("binhost.sync.last.success", this, s -> s.lastSuccessAt == null ? Double.NaN
                        : s.lastSuccessAt.toEpochMilli() / 1000.0)
                .baseUnit("seconds").description("Unix time of the last successful config pull").register(registry));
        gauges.add(Gauge.builder("binhost.sync.held", this, s -> s.heldSince == null ? 0 : 1)
                .description("1 while config pulls are held at a rolled-back set (until pull-config)")
                .register(registry));
        Log.infof("Config pull: %s into %s (staging %s, backup %s), every %s (+0..%s jitter), deadline %s",
                pull.rsyncArgv().get(pull.rsyncArgv().size() - 2), pull.liveDir(), pull.stagingDir(),
                pull.backupDir(), config.interval().isZero() ? "never (schedule off)" : human(config.interval()),
                human(config.jitter()), human(config.deadline()));
    }

    /** Creates this bean at start-up, so an interrupted apply is finished before any other work (see above). */
    void onStart(@Observes @Priority(10) StartupEvent event) {
        Log.debugf("Config pull ready: %s", pull.liveDir());
    }

    /** The scheduler's tick: beats, and submits a scheduled pull when one is due and none is running. */
    @Scheduled(identity = "config-sync", every = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        Duration running = runningFor();
        // A pull is bounded by its deadlines; one running far longer means the pull thread is wedged.
        if (running.compareTo(worstCase()) <= 0) {
            heartbeats.beat(LOOP, TICK.plus(worstCase()).plusSeconds(30));
        }
        String putOff = deferred;
        if (putOff != null) {
            submit(putOff, false);
            return;
        }
        if (config.interval().isZero() || clock.instant().isBefore(nextScheduledAt)) {
            return;
        }
        submit("schedule", false);
    }

    /** Master came UP: pull now, it may have changed its config while it was away. */
    void onMasterTransition(@ObservesAsync MasterTransition transition) {
        if (transition.cameUp() && config.pullOnMasterUp()) {
            submit("master up", true);
        }
    }

    /**
     * Hands a pull to the pull thread. While one runs, a scheduled pull is dropped (the running one serves it),
     * but a pull for a new reason (the master just came UP: the running pull may have started against the old,
     * unreachable master) is remembered and runs right after it, once however often it is asked for.
     */
    private synchronized void submit(String reason, boolean followIfBusy) {
        Future<?> f = inFlight;
        if (f != null && !f.isDone()) {
            if (followIfBusy) {
                followUp = reason;
            }
            return;
        }
        start(reason);
    }

    private synchronized void start(String reason) {
        inFlightSince = clock.instant();
        inFlight = executor.submit(() -> {
            try {
                if (heldSince != null) {
                    Log.debugf("Config pull (%s) skipped: held since the rollback at %s", reason, heldSince);
                    attemptedWithoutPull("held at the set rolled back at " + heldSince);
                } else if (emergeRunning.getAsBoolean()) {
                    // Portage reads package.env and env/ files as each package builds: changing them mid-run
                    // would build the rest of the run with another configuration than the one it planned with.
                    if (deferred == null) {
                        Log.infof("Config pull (%s) put off: an emerge is running; it runs once the emerge ends",
                                reason);
                    }
                    deferred = reason;
                    attemptedWithoutPull("put off: an emerge is running");
                } else {
                    deferred = null;
                    pullNow(reason);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                // pullNow counts a failed pull itself; this is a bug around it, which must not vanish either.
                Log.errorf("Config pull (%s) thread failed: %s", reason, Names.describe(e));
            } finally {
                synchronized (this) {
                    String next = followUp;
                    followUp = null;
                    if (next != null && !executor.isShutdown()) {
                        start(next + ", after a pull that was running");
                    }
                }
            }
        });
    }

    /**
     * Pulls now on the calling thread (waits for a running pull first), then runs the tree sync if configured.
     * The CLI's pull and tests call this.
     */
    public PullResult pullNow(String reason) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            Log.debugf("Config pull (%s)", reason);
            Instant at = clock.instant();
            long t0 = System.nanoTime();
            PullResult result;
            try {
                result = pull.pull();
                if (result.succeeded() && config.treeSyncCommand().isPresent()) {
                    Optional<CommandResult> tree = pull.syncTree();
                    if (tree.isPresent()) {
                        result = result.withTreeSync(tree.get());
                        record(tree.get());
                    }
                }
            } catch (RuntimeException e) {
                // Never swallowed: an unexpected exception is a failed pull, counted, logged and in status.
                Log.errorf("Config pull (%s) failed unexpectedly: %s", reason, Names.describe(e));
                result = new PullResult(PullResult.Outcome.FAILED, at, Duration.ofNanos(System.nanoTime() - t0),
                        Changes.NONE, "unexpected error: " + Names.escape(String.valueOf(e)), Optional.empty());
            }
            // Every pull first finishes an interrupted apply; one still on disk now could not be finished.
            unrecovered = pull.applyInterrupted() ? result.message() : null;
            record(result, reason);
            return result;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts the previous 01* set back (see {@link ConfigPull#rollback()}) and holds pulls there: otherwise the
     * next scheduled or before-run pull would re-apply the very set the admin is rolling back from.
     */
    public RollbackResult rollBack() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            RollbackResult r = pull.rollback();
            if (r.done()) {
                Instant now = clock.instant();
                heldSince = now;
                try {
                    pull.hold(now);
                } catch (IOException e) {
                    Log.warnf("Cannot record the hold on config pulls (it lasts until the agent restarts): %s", e);
                }
                Log.infof("Config rollback: %s; pulls held until `binhost-agent pull-config`", r.message());
            } else {
                Log.warnf("Config rollback not done: %s", r.message());
            }
            return r;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Verdict pullConfig(String requestedBy) {
        try {
            if (heldSince != null) {
                Log.infof("Config pulls resumed by %s (held since %s)", requestedBy, heldSince);
                heldSince = null;
                pull.release();
            }
            PullResult r = pullNow("on demand by " + requestedBy);
            String tag = r.outcome().tag() + ": ";
            return new Verdict(r.succeeded(), r.message().startsWith(tag) ? r.message() : tag + r.message());
        } catch (IOException e) {
            return Verdict.no("cannot end the hold on config pulls: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.no("interrupted while pulling the config");
        }
    }

    @Override
    public Verdict rollbackConfig(String requestedBy) {
        try {
            Log.infof("Config rollback requested by %s", requestedBy);
            RollbackResult r = rollBack();
            return new Verdict(r.done(), r.message() + (r.done()
                    ? "; config pulls are held at this set until `binhost-agent pull-config`" : ""));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.no("interrupted while rolling back the config");
        }
    }

    @Override
    public Verdict refreshBeforeRun() {
        Instant held = heldSince;
        if (held != null) {
            return Verdict.ok("config held at the set rolled back at " + held + "; not pulled");
        }
        try {
            PullResult r = pullNow("before update run");
            if (r.succeeded()) {
                return Verdict.ok("config pulled: " + r.message());
            }
            Verdict fresh = freshness();
            return new Verdict(fresh.ok() || !config.requireFresh(), "pull before the run did not apply ("
                    + r.message() + "); " + fresh.detail());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.no("interrupted while pulling the config");
        }
    }

    /** Fresh = the last successful pull is younger than binhost.sync.max-age. */
    public Verdict freshness() {
        String broken = unrecovered;
        if (broken != null) {
            return Verdict.no("an interrupted config apply could not be finished (the live tree may mix two sets): "
                    + broken);
        }
        Instant held = heldSince;
        if (held != null) {
            return Verdict.ok("held at the set rolled back at " + held + " (rollback-config); "
                    + "`binhost-agent pull-config` resumes pulls");
        }
        Instant at = lastSuccessAt;
        if (at == null) {
            return Verdict.no("no successful config pull since the agent started"
                    + (last == null ? "" : "; last attempt: " + last.message()));
        }
        Duration age = Duration.between(at, clock.instant());
        String detail = "last successful pull " + at + " (" + human(age.truncatedTo(ChronoUnit.SECONDS))
                + " ago, max " + human(config.maxAge()) + ")";
        return age.compareTo(config.maxAge()) <= 0 ? Verdict.ok(detail) : Verdict.no(detail
                + (last == null || last.succeeded() ? "" : "; last attempt: " + last.message()));
    }

    public boolean firstAttemptDone() {
        return firstAttemptDone;
    }

    /** How the first attempt ended, when it ended without a pull; empty after a pull or before any attempt. */
    public Optional<String> firstAttemptNote() {
        return Optional.ofNullable(firstAttemptNote);
    }

    /**
     * An attempt that decided not to pull still finishes the first attempt: "started" means the agent got as
     * far as trying, and a slave where emerge runs for hours (or a held rollback) is started all the same.
     */
    private void attemptedWithoutPull(String why) {
        if (!firstAttemptDone) {
            firstAttemptNote = why;
            firstAttemptDone = true;
        }
    }

    public Optional<PullResult> last() {
        return Optional.ofNullable(last);
    }

    SyncConfig config() {
        return config;
    }

    @Override
    public String section() {
        return "config";
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        PullResult r = last;
        m.put("portageDir", pull.liveDir().toString());
        m.put("fresh", freshness().ok());
        m.put("lastSuccess", lastSuccessAt == null ? null : lastSuccessAt.toString());
        m.put("lastOutcome", r == null ? null : r.outcome().name());
        m.put("lastAttempt", r == null ? null : r.at().toString());
        m.put("lastMessage", r == null ? null : r.message());
        m.put("backupTakenAt", pull.backupTakenAt().map(Instant::toString).orElse(null));
        m.put("heldSince", heldSince == null ? null : heldSince.toString());
        m.put("putOff", deferred == null ? null : deferred + " (an emerge is running)");
        m.put("nextScheduled", config.interval().isZero() ? null : nextScheduledAt.toString());
        return m;
    }

    private void record(PullResult r, String reason) {
        Instant now = clock.instant();
        last = r;
        firstAttemptDone = true;
        if (r.succeeded()) {
            lastSuccessAt = r.at();
            pull.recordSuccess(r.at());
        }
        long jitter = config.jitter().toMillis();
        nextScheduledAt = now.plus(config.interval())
                .plusMillis(jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter + 1) : 0);
        registry.counter("binhost.sync.pulls", "outcome", r.outcome().tag()).increment();
        Timer.builder("binhost.sync.duration").tag("outcome", r.outcome().tag())
                .description("Wall time of one config pull").register(registry).record(r.took());
        registry.counter("binhost.sync.files", "change", "added").increment(r.changes().added().size());
        registry.counter("binhost.sync.files", "change", "changed").increment(r.changes().changed().size());
        registry.counter("binhost.sync.files", "change", "removed").increment(r.changes().removed().size());
        switch (r.outcome()) {
            case APPLIED, UNCHANGED -> Log.debugf("Config pull (%s): %s", reason, r.message());
            default -> Log.warnf("Config pull (%s) %s: %s", reason, r.outcome(), r.message());
        }
    }

    private void record(CommandResult tree) {
        registry.counter("binhost.sync.tree.syncs", "outcome", tree.succeeded() ? "success" : "failure").increment();
        if (tree.succeeded()) {
            Log.infof("Tree sync: %s", tree.summary());
        } else {
            Log.warnf("Tree sync failed: %s: %s", tree.summary(), tree.lastLine());
        }
    }

    private Duration runningFor() {
        Future<?> f = inFlight;
        Instant since = inFlightSince;
        return f == null || f.isDone() || since == null ? Duration.ZERO : Duration.between(since, clock.instant());
    }

    private Duration worstCase() {
        Duration d = config.deadline().plusMinutes(1);
        return config.treeSyncCommand().isPresent() ? d.plus(config.treeSyncDeadline()) : d;
    }

    void stop(@Observes ShutdownEvent event) {
        gauges.removeAll();
        executor.shutdownNow();
    }
}
