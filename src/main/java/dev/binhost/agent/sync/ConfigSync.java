package dev.binhost.agent.sync;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.health.Loop;
import dev.binhost.agent.master.MasterConfig;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.metrics.MetricsReady;
import dev.binhost.agent.metrics.OwnedMeters;
import dev.binhost.agent.portage.EmergeActivity;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.spi.Verdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

import static dev.binhost.agent.config.Durations.human;

/**
 * When the config is pulled (schedule with jitter, master UP, before each update run, on demand) and what the
 * rest of the agent sees of it: freshness, status, metrics. The work of one pull is in {@link ConfigPull}.
 *
 * <p>Where the state lives: in the one {@link SyncState} value of {@link #state}, replaced only by
 * {@link #fire}, which applies the pure {@link SyncMachine#next}. Every pull, rollback and hold change runs on
 * the {@link Loop} thread "config-sync" (so one pull at a time, by construction): its step runs the scheduled,
 * owed and put-off pulls when they are due; {@code pull-config}, {@code rollback-config} and the update runner's
 * before-run pull hand their work to that thread and wait for its result. The loop sleeps until the next
 * scheduled pull, re-checks every {@link SyncMachine#PUT_OFF_RECHECK} while an emerge holds a pull back, and
 * sleeps until an event when the schedule is off.
 */
@ApplicationScoped
public class ConfigSync implements StatusContributor {
    static final String LOOP = "config-sync";

    private final SyncConfig config;
    private final ConfigPull pull;
    private final Clock clock;
    private final MeterRegistry registry;
    private final OwnedMeters gauges;
    private final SyncMachine machine;
    private final Loop loop;
    /** Is an emerge running? Scheduled and master-UP pulls wait for it to end. */
    private final BooleanSupplier emergeRunning;

    /** The whole state: set once at construction, then written only by {@link #fire}. */
    private volatile SyncState state;

    @Inject
    public ConfigSync(SyncConfig config, MasterConfig master, AgentConfig agent, ProcessRunner runner, Clock clock,
            Heartbeats heartbeats, MeterRegistry registry, EmergeActivity emerges) {
        this(config, new ConfigPull(config, new ConfigPull.Source(master.host(), master.rsyncPort(),
                master.rsyncModule()), agent.stateDir(), runner, clock), clock, heartbeats, registry,
                emerges::any);
    }

    ConfigSync(SyncConfig config, ConfigPull pull, Clock clock, Heartbeats heartbeats, MeterRegistry registry,
            BooleanSupplier emergeRunning) {
        this.emergeRunning = emergeRunning;
        this.config = config;
        this.pull = pull;
        this.clock = clock;
        this.registry = registry;
        this.gauges = new OwnedMeters(registry);
        long jitter = config.jitter().toMillis();
        this.machine = new SyncMachine(config.interval(),
                () -> jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter + 1) : 0);
        // Before anything reads the live tree (a pull, readiness): finish an apply a crash cut short.
        Optional<String> unrecovered = Optional.empty();
        try {
            pull.recover();
        } catch (IOException | RuntimeException e) {
            unrecovered = Optional.of(Names.describe(e));
            Log.errorf("Config: an interrupted apply could not be finished; the live tree may mix two sets: %s",
                    unrecovered.get());
        }
        // A restart does not make the config on disk any older: freshness goes on from the last recorded success.
        this.state = machine.initial(pull.heldSince(), pull.lastSuccess(), unrecovered, clock.instant());
        state.heldSince().ifPresent(since -> Log.warnf(
                "Config pulls are held at the set rolled back at %s; `binhost-agent pull-config` resumes them", since));
        this.loop = new Loop(LOOP, clock, heartbeats, worstCase(), this::step);
        for (PullResult.Outcome o : PullResult.Outcome.values()) {
            Counter.builder("binhost.sync.pulls").tag("outcome", o.tag())
                    .description("Config pulls by outcome").register(registry);
        }
        for (String change : List.of("added", "changed", "removed")) {
            Counter.builder("binhost.sync.files").tag("change", change).baseUnit("files")
                    .description("Managed files the config pulls added, changed or removed").register(registry);
        }
        gauges.add(Gauge.builder("binhost.sync.age", this, s -> s.state.lastSuccess().map(at ->
                        Duration.between(at, s.clock.instant()).toMillis() / 1000.0).orElse(Double.NaN))
                .baseUnit("seconds").description("Time since the last successful config pull").register(registry));
        gauges.add(Gauge.builder("binhost.sync.last.success", this, s -> s.state.lastSuccess().map(at ->
                        at.toEpochMilli() / 1000.0).orElse(Double.NaN))
                .baseUnit("seconds").description("Unix time of the last successful config pull").register(registry));
        gauges.add(Gauge.builder("binhost.sync.held", this, s -> s.state.heldSince().isPresent() ? 1 : 0)
                .description("1 while config pulls are held at a rolled-back set (until pull-config)")
                .register(registry));
        Log.infof("Config pull: %s into %s (staging %s, backup %s), every %s (+0..%s jitter), deadline %s",
                pull.rsyncArgv().get(pull.rsyncArgv().size() - 2), pull.liveDir(), pull.stagingDir(),
                pull.backupDir(), config.interval().isZero() ? "never (schedule off)" : human(config.interval()),
                human(config.jitter()), human(config.deadline()));
    }

    /** Starts the loop after the config check (priority 1): its first step pulls when the schedule is on. */
    void onStart(@Observes @Priority(100) StartupEvent event, MetricsReady metrics) {
        metrics.then(loop::start);
    }

    /** Applies one event: the only place {@link #state} changes. */
    private synchronized SyncMachine.Transition fire(SyncEvent event) {
        SyncState before = state;
        SyncMachine.Transition t = machine.next(before, event, clock.instant());
        state = t.state();
        if (t.state().phase() instanceof SyncState.PutOff p && !(before.phase() instanceof SyncState.PutOff)) {
            Log.infof("Config pull (%s) put off: an emerge is running; it runs once the emerge ends", p.reason());
        }
        return t;
    }

    /** The loop's step: runs the pull that is due (at most one per step) and says when it is next due. */
    private Instant step(Instant now) {
        SyncMachine.Transition t = fire(new SyncEvent.Due(emergeRunning.getAsBoolean()));
        if (t.pull().isPresent()) {
            try {
                run(t.pull().get());
            } catch (InterruptedException e) {
                // The agent is stopping (the loop is closed).
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return machine.due(state, clock.instant());
    }

    /** Master came UP: pull now, it may have changed its config while it was away. */
    void onMasterTransition(@ObservesAsync MasterTransition transition) {
        if (transition.cameUp() && config.pullOnMasterUp()) {
            if (fire(new SyncEvent.MasterUp()).state().phase() instanceof SyncState.Owed) {
                loop.wake();
            }
        }
    }

    /** Runs the loop's step now (tests: the put-off re-check without waiting for it). */
    void wake() {
        loop.wake();
    }

    /** Waits until what was handed to the loop so far has run (tests). */
    void awaitLoop() throws Exception {
        loop.awaitIdle();
    }

    /**
     * Runs {@code work} on the loop's thread, after what runs there now, and waits for its result: the callers'
     * pulls and rollbacks then never overlap a scheduled pull, nor each other.
     */
    private <T> T onLoop(Callable<T> work) throws InterruptedException {
        try {
            return loop.submit(() -> {
                try {
                    return work.call();
                } finally {
                    if (state.phase() instanceof SyncState.Owed) {
                        // The master came UP during this pull: the step runs the follow-up.
                        loop.wake();
                    }
                }
            }).get();
        } catch (CancellationException e) {
            throw new InterruptedException("the agent is stopping");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof InterruptedException ie) {
                throw ie;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Pulls now, on the loop's thread (after a running pull), then runs the tree sync if configured; like
     * {@code pull-config}, it ends a hold. The CLI's pull and tests call this.
     */
    PullResult pullNow(String reason) throws InterruptedException {
        return onLoop(() -> {
            SyncState before = state;
            if (before.phase() instanceof SyncState.Held held) {
                try {
                    pull.release();
                } catch (IOException e) {
                    // Still held, on disk and here: the caller says why the pull did not run.
                    throw new UncheckedIOException(e);
                }
                Log.infof("Config pulls resumed (%s; held since %s)", reason, held.since());
            }
            SyncMachine.Transition t = fire(new SyncEvent.OnDemand(reason));
            return run(t.pull().orElseThrow(() -> new IllegalStateException("no pull started: " + t.state())));
        });
    }

    /** One pull, on the loop's thread; {@link SyncEvent.PullFinished} records it. */
    private PullResult run(String reason) throws InterruptedException {
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
        if (result.succeeded()) {
            pull.recordSuccess(result.at());
        }
        fire(new SyncEvent.PullFinished(result, pull.applyInterrupted()));
        record(result, reason);
        return result;
    }

    /**
     * Puts the previous 01* set back (see {@link ConfigPull#rollback()}) and holds pulls there: otherwise the
     * next scheduled or before-run pull would re-apply the very set the admin is rolling back from.
     */
    public RollbackResult rollBack() throws InterruptedException {
        return onLoop(() -> {
            RollbackResult r = pull.rollback();
            if (r.done()) {
                fire(new SyncEvent.RolledBack());
                Instant since = state.heldSince().orElseThrow();
                try {
                    pull.hold(since);
                } catch (IOException e) {
                    Log.warnf("Cannot record the hold on config pulls (it lasts until the agent restarts): %s", e);
                }
                Log.infof("Config rollback: %s; pulls held until `binhost-agent pull-config`", r.message());
            } else {
                Log.warnf("Config rollback not done: %s", r.message());
            }
            return r;
        });
    }

    /** The admin's {@code pull-config}: pulls now and ends a hold a rollback put on pulls; waits for the pull. */
    public Verdict pullConfig(String requestedBy) {
        try {
            PullResult r = pullNow("on demand by " + requestedBy);
            return new Verdict(r.succeeded(), r.describe());
        } catch (UncheckedIOException e) {
            return Verdict.no("cannot end the hold on config pulls: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.no("interrupted while pulling the config");
        }
    }

    /** The admin's {@code rollback-config}: puts the previous 01* set back and holds pulls at it. */
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

    /**
     * The update runner's pull right before a run, bounded by the pull's deadline (and a pull running before
     * it); the verdict says whether the config is fresh enough to run. Never put off; held means not pulled.
     */
    public Verdict refreshBeforeRun() {
        try {
            return onLoop(() -> {
                SyncMachine.Transition t = fire(new SyncEvent.BeforeRun());
                if (t.pull().isEmpty()) {
                    return Verdict.ok("config held at the set rolled back at "
                            + state.heldSince().map(Instant::toString).orElse("?") + "; not pulled");
                }
                PullResult r = run(t.pull().get());
                if (r.succeeded()) {
                    return Verdict.ok("config pulled: " + r.message());
                }
                Verdict fresh = freshness();
                return new Verdict(fresh.ok() || !config.requireFresh(), "pull before the run did not apply ("
                        + r.describe() + "); " + fresh.detail());
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.no("interrupted while pulling the config");
        }
    }

    /** Fresh = the last successful pull is younger than binhost.sync.max-age. */
    public Verdict freshness() {
        SyncState s = state;
        if (s.unrecovered().isPresent()) {
            return Verdict.no("an interrupted config apply could not be finished (the live tree may mix two sets): "
                    + s.unrecovered().get());
        }
        if (s.heldSince().isPresent()) {
            return Verdict.ok("held at the set rolled back at " + s.heldSince().get() + " (rollback-config); "
                    + "`binhost-agent pull-config` resumes pulls");
        }
        Optional<PullResult> last = s.last();
        if (s.lastSuccess().isEmpty()) {
            return Verdict.no("no successful config pull since the agent started"
                    + last.map(r -> "; last attempt " + r.describe()).orElse(""));
        }
        Instant at = s.lastSuccess().get();
        Duration age = Duration.between(at, clock.instant());
        String detail = "last successful pull " + at + " (" + human(age.truncatedTo(ChronoUnit.SECONDS))
                + " ago, max " + human(config.maxAge()) + ")";
        return age.compareTo(config.maxAge()) <= 0 ? Verdict.ok(detail) : Verdict.no(detail
                + last.filter(r -> !r.succeeded()).map(r -> "; last attempt " + r.describe()).orElse(""));
    }

    public boolean firstAttemptDone() {
        return state.firstAttemptDone();
    }

    /** How the first attempt ended: a note when it ran no pull (put off, held), else the pull's outcome. */
    public Optional<String> firstAttemptNote() {
        return state.firstAttempt();
    }

    public Optional<PullResult> last() {
        return state.last();
    }

    SyncConfig config() {
        return config;
    }

    /** The current state, for tests. */
    SyncState state() {
        return state;
    }

    @Override
    public String section() {
        return "config";
    }

    @Override
    public Map<String, Object> status() {
        SyncState s = state;
        Map<String, Object> m = new LinkedHashMap<>();
        PullResult r = s.last().orElse(null);
        m.put("portageDir", pull.liveDir().toString());
        m.put("fresh", freshness().ok());
        m.put("lastSuccess", s.lastSuccess().map(Instant::toString).orElse(null));
        m.put("lastOutcome", r == null ? null : r.outcome().name());
        m.put("lastAttempt", r == null ? null : r.at().toString());
        m.put("lastMessage", r == null ? null : r.message());
        m.put("backupTakenAt", pull.backupTakenAt().map(Instant::toString).orElse(null));
        m.put("heldSince", s.heldSince().map(Instant::toString).orElse(null));
        m.put("putOff", s.phase() instanceof SyncState.PutOff p ? p.reason() + " (an emerge is running)" : null);
        m.put("nextScheduled", s.phase() instanceof SyncState.Idle i ? i.next().map(Instant::toString).orElse(null)
                : null);
        m.put("state", s.phase().label());
        return m;
    }

    private void record(PullResult r, String reason) {
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

    /** A pull is bounded by its deadlines; one running far longer means the loop's thread is wedged. */
    private Duration worstCase() {
        Duration d = config.deadline().plusMinutes(1);
        return config.treeSyncCommand().isPresent() ? d.plus(config.treeSyncDeadline()) : d;
    }

    void stop(@Observes ShutdownEvent event) {
        gauges.removeAll();
        loop.close();
    }
}
