package dev.binhost.agent.metrics;

import dev.binhost.agent.config.Durations;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.quarkus.logging.Log;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Holds the loops back until the metrics can count what they do. The registry components are given is
 * Micrometer's global composite; Quarkus adds the Prometheus registry to it in a start-up step that runs after
 * the {@code StartupEvent} (and after the HTTP socket opens), and a composite with no registry behind it drops
 * what is recorded. A loop started on {@code StartupEvent} could finish its first round before that: the master's
 * first UP went uncounted while the log said it happened. Quarkus binds every {@link MeterBinder} bean once the
 * registries are in place, so this bean's {@link #bindTo} is the moment the loops may start.
 *
 * <p>Should that never happen (metrics switched off), the loops start anyway after {@link #AT_THE_LATEST}, with
 * a warning: an agent that does its work uncounted is better than one that does nothing.
 */
@Singleton
public class MetricsReady implements MeterBinder {
    static final Duration AT_THE_LATEST = Duration.ofSeconds(10);

    private final CompletableFuture<Void> bound = new CompletableFuture<>();

    public MetricsReady() {
        this(AT_THE_LATEST);
    }

    /** Opens at the latest after {@code atTheLatest}; with null only when bound. */
    MetricsReady(Duration atTheLatest) {
        if (atTheLatest != null) {
            CompletableFuture.delayedExecutor(atTheLatest.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
                if (bound.complete(null)) {
                    Log.warnf("Metrics registry not configured %s after start: the loops start without it",
                            Durations.human(atTheLatest));
                }
            });
        }
    }

    /** Already open: for components built by hand (tests), whose registry is complete from the start. */
    public static MetricsReady now() {
        MetricsReady ready = new MetricsReady(null);
        ready.bound.complete(null);
        return ready;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        bound.complete(null);
    }

    /** Runs {@code start} once the metrics count (at once when they already do), on the thread that opened them. */
    public void then(Runnable start) {
        bound.thenRun(start);
    }

    /** Whether the registries are in place (or the wait gave up). */
    public boolean open() {
        return bound.isDone();
    }
}
