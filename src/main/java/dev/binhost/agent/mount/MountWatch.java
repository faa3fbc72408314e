package dev.binhost.agent.mount;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.master.MasterWatch;
import dev.binhost.agent.process.DaemonThreads;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * Drives the {@link MountManager}: reacts to master transitions and, every second, hands a round (deferred
 * releases, due mounts, due probes) to the mount worker thread. Everything runs on that one worker, so mount,
 * release and probe never race; the scheduler thread and the event thread only submit.
 */
@ApplicationScoped
public class MountWatch {
    static final String LOOP = "mount-watch";

    private final MountManager mounts;
    private final BooleanSupplier masterUp;
    private final Heartbeats heartbeats;
    private final Clock clock;
    private final ExecutorService worker;
    private volatile Future<?> round;
    private volatile Instant roundSince;

    @Inject
    public MountWatch(MountManager mounts, MasterWatch master, Heartbeats heartbeats, Clock clock) {
        this(mounts, () -> master.state().up(), heartbeats, clock);
    }

    /** For tests: the master's state comes from {@code masterUp}. */
    MountWatch(MountManager mounts, BooleanSupplier masterUp, Heartbeats heartbeats, Clock clock) {
        this.mounts = mounts;
        this.masterUp = masterUp;
        this.heartbeats = heartbeats;
        this.clock = clock;
        this.worker = Executors.newSingleThreadExecutor(DaemonThreads.named("mount-worker"));
    }

    /** Thin tick: beat unless a round overran its bound (then liveness reports it), submit the next round. */
    @Scheduled(identity = "mount-watch", every = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        Future<?> running = round;
        Instant since = roundSince;
        if (running != null && !running.isDone()) {
            if (since != null && Duration.between(since, clock.instant()).compareTo(roundBound()) <= 0) {
                heartbeats.beat(LOOP, roundBound());
            }
            return;
        }
        heartbeats.beat(LOOP, roundBound());
        if (mounts.names().isEmpty()) {
            return;
        }
        roundSince = clock.instant();
        round = worker.submit(() -> guarded("round", () -> mounts.reconcile(masterUp.getAsBoolean())));
    }

    void onMaster(@ObservesAsync MasterTransition transition) {
        if (transition.cameUp()) {
            worker.submit(() -> guarded("mount on master UP", mounts::mountAll));
        } else if (transition.wentDown() && mounts.config().onMasterDown() == MountConfig.DownPolicy.RELEASE) {
            worker.submit(() -> guarded("release on master DOWN",
                    () -> mounts.releaseAll("master went DOWN: " + transition.current().reason())));
        }
    }

    /**
     * Longest a healthy round can take: per mount a mount, a plain and a lazy umount and a probe, each bounded
     * by its deadline (the runner adds its kill grace, covered by the extra minute).
     */
    Duration roundBound() {
        Duration perMount = mounts.config().commandTimeout().multipliedBy(3).plus(mounts.config().probeTimeout());
        return perMount.multipliedBy(Math.max(1, mounts.names().size())).plusMinutes(1);
    }

    /** Probes one mount on the worker, as a round would; tests use it. */
    Future<MountStatus> submitProbe(String name) {
        return worker.submit(() -> mounts.probe(name));
    }

    /** Waits until the worker has done everything submitted so far; tests use it. */
    void awaitIdle() throws Exception {
        worker.submit(() -> { }).get();
    }

    private static void guarded(String what, Runnable work) {
        try {
            work.run();
        } catch (RuntimeException e) {
            Log.errorf(e, "Mount %s failed", what);
        }
    }

    void stop(@Observes ShutdownEvent event) {
        // Mounts stay: an agent restart must not pull the share from under a running emerge.
        worker.shutdownNow();
    }
}
