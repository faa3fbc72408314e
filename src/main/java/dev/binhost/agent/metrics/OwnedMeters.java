package dev.binhost.agent.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Gauges a component registered on its own state, removed again when it stops. A gauge holds its state object
 * weakly and a registry returns the existing gauge for a known name, so a gauge left behind by a stopped
 * component (an application restarted in the same JVM, as tests do) would shadow the new one with a dead
 * object's NaN, and the series would vanish from the exposition.
 */
public final class OwnedMeters {
    private final MeterRegistry registry;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();

    public OwnedMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    public <T extends Meter> T add(T meter) {
        meters.add(meter);
        return meter;
    }

    public void removeAll() {
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }
}
