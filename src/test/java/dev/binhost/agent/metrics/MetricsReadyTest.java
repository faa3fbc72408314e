package dev.binhost.agent.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsReadyTest {

    @Test
    void aCompositeWithNoRegistryYet_dropsWhatIsCounted_whichIsWhyTheLoopsWait() {
        // What Quarkus's start-up order means without the gate: the meter exists before the registry behind it.
        CompositeMeterRegistry global = new CompositeMeterRegistry();
        Counter early = Counter.builder("binhost.master.transitions").tag("to", "up").register(global);
        early.increment();
        SimpleMeterRegistry prometheus = new SimpleMeterRegistry();
        global.add(prometheus);
        assertEquals(0.0, prometheus.get("binhost.master.transitions").counter().count(),
                "the increment before the registry was added is lost");
        early.increment();
        assertEquals(1.0, prometheus.get("binhost.master.transitions").counter().count());
    }

    @Test
    void startsWaitUntilTheRegistriesAreBound_thenRunOnce_andLateComersRunAtOnce() {
        MetricsReady ready = new MetricsReady(null);
        AtomicInteger started = new AtomicInteger();
        ready.then(started::incrementAndGet);
        ready.then(started::incrementAndGet);
        assertFalse(ready.open());
        assertEquals(0, started.get(), "nothing starts before the registries are in place");

        ready.bindTo(new SimpleMeterRegistry());
        assertTrue(ready.open());
        assertEquals(2, started.get());
        ready.bindTo(new SimpleMeterRegistry());
        assertEquals(2, started.get(), "a second bind starts nothing twice");
        ready.then(started::incrementAndGet);
        assertEquals(3, started.get(), "asked after the bind: runs at once");
    }

    @Test
    void neverBound_theLoopsStartAnywayAfterTheWait() throws InterruptedException {
        MetricsReady ready = new MetricsReady(Duration.ofMillis(100));
        CountDownLatch started = new CountDownLatch(1);
        ready.then(started::countDown);
        assertTrue(started.await(30, TimeUnit.SECONDS), "started without a bind");
        assertTrue(ready.open());
    }

    @Test
    void now_isOpenFromTheStart() {
        AtomicInteger started = new AtomicInteger();
        MetricsReady.now().then(started::incrementAndGet);
        assertEquals(1, started.get());
    }
}
