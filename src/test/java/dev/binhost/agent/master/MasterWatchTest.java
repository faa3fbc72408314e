package dev.binhost.agent.master;

import dev.binhost.agent.health.Heartbeats;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.NotificationOptions;
import jakarta.enterprise.util.TypeLiteral;
import org.junit.jupiter.api.Test;

import java.lang.annotation.Annotation;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The master watch's round called directly (no loop thread): what it found and when the next one is due. */
class MasterWatchTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void nextRoundAt_isTheIntervalPlusAShareOfTheJitter() {
        Duration interval = Duration.ofSeconds(30);
        Duration jitter = Duration.ofSeconds(5);
        assertEquals(T0.plusSeconds(30), MasterWatch.nextRoundAt(T0, interval, jitter, 0.0));
        assertEquals(T0.plusMillis(32_500), MasterWatch.nextRoundAt(T0, interval, jitter, 0.5));
        assertEquals(T0.plusSeconds(35), MasterWatch.nextRoundAt(T0, interval, jitter, 0.99999999),
                "the jitter's upper end is reachable");
        assertEquals(T0.plusMillis(500), MasterWatch.nextRoundAt(T0, Duration.ofMillis(500), Duration.ZERO, 0.7),
                "a sub-second interval is kept as is");
    }

    @Test
    void aRound_againstAClosedPort_isDown_announcesIt_andIsNextDueAnIntervalOn() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        List<MasterTransition> fired = new CopyOnWriteArrayList<>();
        MasterWatch watch = new MasterWatch(TestMasterConfig.rsyncOnly("127.0.0.1", closed), Clock.systemUTC(),
                new Heartbeats(Clock.systemUTC()), new Recording(fired), new SimpleMeterRegistry());
        try {
            assertFalse(watch.firstRoundDone());
            assertNull(watch.due(), "constructing the watch starts no round");
            Instant before = Instant.now();
            MasterWatch.Round round = watch.round();
            Instant after = Instant.now();
            assertEquals(MasterState.Status.DOWN, round.state().status());
            assertTrue(watch.firstRoundDone());
            assertEquals(1, fired.size(), "UNKNOWN -> DOWN is announced once");
            assertTrue(fired.get(0).current().status() == MasterState.Status.DOWN);
            // TestMasterConfig: 1 s interval, no jitter.
            assertFalse(round.next().isBefore(before.plusSeconds(1)), round.next() + " vs " + before);
            assertFalse(round.next().isAfter(after.plusSeconds(1)), round.next() + " vs " + after);

            watch.round();
            assertEquals(1, fired.size(), "still DOWN: nothing new to announce");
        } finally {
            watch.stop(null);
        }
    }

    /** Records what the watch fires. */
    private record Recording(List<MasterTransition> fired) implements Event<MasterTransition> {
        @Override
        public void fire(MasterTransition event) {
            fired.add(event);
        }

        @Override
        public <U extends MasterTransition> CompletionStage<U> fireAsync(U event) {
            fired.add(event);
            return CompletableFuture.completedFuture(event);
        }

        @Override
        public <U extends MasterTransition> CompletionStage<U> fireAsync(U event, NotificationOptions options) {
            return fireAsync(event);
        }

        @Override
        public Event<MasterTransition> select(Annotation... qualifiers) {
            return this;
        }

        @Override
        public <U extends MasterTransition> Event<U> select(Class<U> subtype, Annotation... qualifiers) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <U extends MasterTransition> Event<U> select(TypeLiteral<U> subtype, Annotation... qualifiers) {
            throw new UnsupportedOperationException();
        }
    }
}
