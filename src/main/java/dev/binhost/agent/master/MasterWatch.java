package dev.binhost.agent.master;

import dev.binhost.agent.config.Durations;
import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.health.Loop;
import dev.binhost.agent.metrics.MetricsReady;
import dev.binhost.agent.metrics.OwnedMeters;
import dev.binhost.agent.process.DaemonThreads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Probes the master every interval (plus jitter) and keeps {@link MasterState}. A round runs on the watch's own
 * {@link Loop} when it is due, so the agent sleeps between rounds; each probe runs on the probe threads bounded by
 * its socket timeouts, and the round by a hard wait, so a master that hangs connections holds no loop for longer.
 */
@ApplicationScoped
public class MasterWatch {
    static final String LOOP = "master-watch";

    private final MasterConfig config;
    private final Clock clock;
    private final Event<MasterTransition> transitions;
    private final MeterRegistry registry;
    private final OwnedMeters gauges;
    private final List<Probe> probes;
    private final Hysteresis hysteresis;
    private final Loop loop;
    private final ExecutorService probeExecutor;

    private volatile MasterState state;
    private volatile boolean firstRoundDone;

    public MasterWatch(MasterConfig config, Clock clock, Heartbeats heartbeats, Event<MasterTransition> transitions,
            MeterRegistry registry) {
        this(config, clock, heartbeats, transitions, registry, Optional.empty());
    }

    /** {@code binhost}: the HTTP binhost's index probe, when the slave fetches its binaries over http. */
    @Inject
    public MasterWatch(MasterConfig config, Clock clock, Heartbeats heartbeats, Event<MasterTransition> transitions,
            MeterRegistry registry, dev.binhost.agent.binhost.Binhost binhost) {
        this(config, clock, heartbeats, transitions, registry, binhost.probe());
    }

    private MasterWatch(MasterConfig config, Clock clock, Heartbeats heartbeats, Event<MasterTransition> transitions,
            MeterRegistry registry, Optional<Probe> binhostProbe) {
        this.config = config;
        this.clock = clock;
        this.transitions = transitions;
        this.registry = registry;
        this.gauges = new OwnedMeters(registry);
        List<Probe> all = new ArrayList<>(probesFor(config));
        binhostProbe.ifPresent(all::add);
        this.probes = List.copyOf(all);
        this.hysteresis = new Hysteresis(config.downAfterFailures(), config.upAfterSuccesses());
        this.state = MasterState.initial(clock.instant());
        // A round's own time is bounded by roundBound(); ten seconds more for a busy machine.
        this.loop = new Loop(LOOP, clock, heartbeats, roundBound().plusSeconds(10), now -> round().next());
        this.probeExecutor = Executors.newFixedThreadPool(Math.max(1, probes.size()), DaemonThreads.named("master-probe"));
        gauges.add(Gauge.builder("binhost.master.up", this, w -> w.state.up() ? 1 : 0)
                .description("1 when the master's services answer (after hysteresis), else 0")
                .register(registry));
        for (MasterState.Status to : List.of(MasterState.Status.UP, MasterState.Status.DOWN)) {
            Counter.builder("binhost.master.transitions").tag("to", to.name().toLowerCase())
                    .description("Times the master was declared UP or DOWN").register(registry);
        }
        Log.infof("Watching master %s: %s every %s (+0..%s jitter), DOWN after %d failed rounds, UP after %d good",
                config.host(), probes.stream().map(Probe::name).toList(), Durations.human(config.probeInterval()),
                Durations.human(config.probeJitter()), config.downAfterFailures(), config.upAfterSuccesses());
    }

    /**
     * After the config check (priority 1): the first round runs on the loop's thread, not on start-up's, once the
     * metrics count (the first UP is a transition too).
     */
    void start(@Observes @Priority(100) StartupEvent event, MetricsReady metrics) {
        metrics.then(loop::start);
    }

    static List<Probe> probesFor(MasterConfig c) {
        List<Probe> probes = new ArrayList<>();
        probes.add(new RsyncProbe(c.host(), c.rsyncPort(), c.connectTimeout(), c.readTimeout()));
        if (c.nfsCheck() != MasterConfig.NfsCheck.NONE) {
            probes.add(new NfsProbe(c.host(), c.nfsPort(), c.nfsVersion(), c.nfsCheck() == MasterConfig.NfsCheck.RPC,
                    c.connectTimeout(), c.readTimeout()));
        }
        c.httpBinhost().ifPresent(url -> probes.add(new HttpProbe(url, c.connectTimeout(), c.readTimeout())));
        return List.copyOf(probes);
    }

    public MasterState state() {
        return state;
    }

    public boolean firstRoundDone() {
        return firstRoundDone;
    }

    public MasterConfig config() {
        return config;
    }

    /** Runs one probe round on the calling thread and applies it; tests call this directly. */
    public MasterState probeNow() {
        return round().state();
    }

    /** What a round found, and when the next one is due. */
    record Round(MasterState state, Instant next) {
    }

    /** One round: probe, apply the hysteresis, announce a change; the next round is due an interval + jitter on. */
    synchronized Round round() {
        List<ProbeResult> round = runRound();
        Instant now = clock.instant();
        MasterState previous = state;
        MasterState next = hysteresis.next(previous, round, now);
        state = next;
        firstRoundDone = true;
        if (next.status() != previous.status()) {
            announce(previous, next);
        }
        return new Round(next, nextRoundAt(now, config.probeInterval(), config.probeJitter(),
                ThreadLocalRandom.current().nextDouble()));
    }

    /** Pure: a round that ended at {@code end} is followed by one {@code interval} + {@code random} × jitter on. */
    static Instant nextRoundAt(Instant end, Duration interval, Duration jitter, double random) {
        return end.plus(interval).plusMillis((long) Math.floor(random * (jitter.toMillis() + 1)));
    }

    /** When the next round is due; tests use it. */
    Instant due() {
        return loop.due();
    }

    /** How long a round may take at most: probes run in parallel, each bounded by its timeouts. */
    Duration roundBound() {
        return config.probeTimeout().plusSeconds(1);
    }

    private List<ProbeResult> runRound() {
        List<Future<ProbeResult>> futures = new ArrayList<>();
        for (Probe probe : probes) {
            futures.add(probeExecutor.submit(probe::probe));
        }
        long deadline = System.nanoTime() + roundBound().toNanos();
        List<ProbeResult> results = new ArrayList<>();
        for (int i = 0; i < probes.size(); i++) {
            Probe probe = probes.get(i);
            ProbeResult result;
            try {
                result = futures.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                futures.get(i).cancel(true);
                result = ProbeResult.failed(probe.name(), roundBound(), "no answer within " + Durations.human(roundBound()));
            } catch (ExecutionException e) {
                result = ProbeResult.failed(probe.name(), Duration.ZERO, "probe failed: " + e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                result = ProbeResult.failed(probe.name(), Duration.ZERO, "interrupted");
            }
            Timer.builder("binhost.master.probe.duration")
                    .description("Time one probe of one master service took")
                    .tag("probe", probe.name())
                    .tag("outcome", result.ok() ? "success" : "failure")
                    .register(registry)
                    .record(result.took());
            if (!result.ok()) {
                Log.debugf("probe %s failed: %s", probe.name(), result.detail());
            }
            results.add(result);
        }
        return results;
    }

    private void announce(MasterState previous, MasterState next) {
        registry.counter("binhost.master.transitions", "to", next.status().name().toLowerCase()).increment();
        if (next.up()) {
            Log.infof("Master %s is UP (was %s): %s", config.host(), previous.status(), next.reason());
        } else {
            Log.warnf("Master %s is DOWN (was %s): %s", config.host(), previous.status(), next.reason());
        }
        transitions.fireAsync(new MasterTransition(previous, next)).exceptionally(e -> {
            Log.errorf(e, "A reaction to master %s failed", next.status());
            return null;
        });
    }

    void stop(@Observes ShutdownEvent event) {
        loop.close();
        probeExecutor.shutdownNow();
        gauges.removeAll();
    }
}
