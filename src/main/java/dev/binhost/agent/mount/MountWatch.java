package dev.binhost.agent.mount;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.health.Loop;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.master.MasterWatch;
import dev.binhost.agent.metrics.MetricsReady;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * Drives the {@link MountManager} on one {@link Loop}: a round (deferred releases, due mounts, due probes) runs
 * when the mounts' states say the next thing is due (a probe interval, a retry time, a release re-check while
 * an emerge runs), and master transitions run on the same thread, so mount, release and probe never race. With
 * the master DOWN and nothing mounted nothing is due: the loop sleeps until the master comes UP.
 */
@ApplicationScoped
public class MountWatch {
    static final String LOOP = "mount-watch";

    private final MountManager mounts;
    private final BooleanSupplier masterUp;
    private final Heartbeats heartbeats;
    private final Loop loop;

    @Inject
    public MountWatch(MountManager mounts, MasterWatch master, Heartbeats heartbeats, Clock clock) {
        this(mounts, () -> master.state().up(), heartbeats, clock);
    }

    /** For tests: the master's state comes from {@code masterUp}. */
    MountWatch(MountManager mounts, BooleanSupplier masterUp, Heartbeats heartbeats, Clock clock) {
        this.mounts = mounts;
        this.masterUp = masterUp;
        this.heartbeats = heartbeats;
        this.loop = new Loop(LOOP, clock, heartbeats, roundBound(mounts.config(), mounts.names().size()), this::step);
    }

    /**
     * After the config check (priority 1). The first round runs on the loop's thread: with the master still
     * UNKNOWN it only probes mounts found from before a restart. Without a configured mount the loop's thread is
     * never started.
     */
    void start(@Observes @Priority(100) StartupEvent event, MetricsReady metrics) {
        if (mounts.names().isEmpty()) {
            Log.debug("No mounts configured: the mount watch does not run");
            heartbeats.idle(LOOP);
            return;
        }
        metrics.then(loop::start);
    }

    /** One round: what each mount's state says is due now; then when the next thing is due, or null. */
    Instant step(Instant now) {
        if (mounts.names().isEmpty()) {
            return null;
        }
        boolean up = masterUp.getAsBoolean();
        mounts.reconcile(up);
        return mounts.nextDue(up);
    }

    void onMaster(@ObservesAsync MasterTransition transition) {
        if (mounts.names().isEmpty()) {
            return;
        }
        if (transition.cameUp()) {
            react(mounts::mountAll);
        } else if (transition.wentDown() && mounts.config().onMasterDown() == MountConfig.DownPolicy.RELEASE) {
            react(() -> mounts.releaseAll("master went DOWN: " + transition.current().reason()));
        }
    }

    /** Runs {@code work} on the loop's thread, then a round, which sets the next due time from the new states. */
    private void react(Runnable work) {
        loop.execute(work);
        loop.wake();
    }

    /**
     * Longest a healthy round can take: per mount a mount, a plain and a lazy umount and two probes (a timeout is
     * confirmed by a second), each bounded by its deadline (the runner adds its kill grace, covered by the extra
     * minute).
     */
    static Duration roundBound(MountConfig config, int mountCount) {
        // In milliseconds: Duration.multipliedBy goes through BigDecimal, and that class's initialisation was the
        // costliest part of creating this bean on the start-up path.
        long perMount = Math.addExact(Math.multiplyExact(config.commandTimeout().toMillis(), 3),
                Math.multiplyExact(config.probeTimeout().toMillis(), 2));
        return Duration.ofMillis(Math.multiplyExact(perMount, Math.max(1, mountCount))).plusMinutes(1);
    }

    /** Runs a round now, as when one is due; tests use it. */
    void wake() {
        loop.wake();
    }

    /** Probes one mount on the loop's thread, as a round would; tests use it. */
    CompletableFuture<MountStatus> submitProbe(String name) {
        CompletableFuture<MountStatus> probed = new CompletableFuture<>();
        loop.execute(() -> probed.complete(mounts.probe(name)));
        return probed;
    }

    /** When the next round is due (null: waiting for an event); tests use it. */
    Instant due() {
        return loop.due();
    }

    /** Waits until the loop has done everything handed to it so far; tests use it. */
    void awaitIdle() throws Exception {
        loop.awaitIdle();
    }

    void stop(@Observes ShutdownEvent event) {
        // Mounts stay: an agent restart must not pull the share from under a running emerge.
        loop.close();
    }
}
