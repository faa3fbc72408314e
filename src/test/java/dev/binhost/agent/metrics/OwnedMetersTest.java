package dev.binhost.agent.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OwnedMetersTest {
    @Test
    void removeAll_letsTheNextOwnerRegisterTheSameGaugeAfresh() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicLong first = new AtomicLong(1);
        OwnedMeters stopped = new OwnedMeters(registry);
        stopped.add(Gauge.builder("binhost.test.up", first, AtomicLong::get).register(registry));
        AtomicLong second = new AtomicLong(2);
        // What goes wrong without removal: the registry hands back the first owner's gauge.
        assertEquals(1.0, Gauge.builder("binhost.test.up", second, AtomicLong::get).register(registry).value());

        stopped.removeAll();
        new OwnedMeters(registry).add(Gauge.builder("binhost.test.up", second, AtomicLong::get).register(registry));

        assertEquals(2.0, registry.get("binhost.test.up").gauge().value());
        assertEquals(1, registry.getMeters().size());
    }
}
