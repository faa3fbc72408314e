package dev.binhost.agent.health;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopTest {
    private final Clock clock = Clock.systemUTC();
    private final Heartbeats heartbeats = new Heartbeats(clock);
    private Loop loop;

    @AfterEach
    void close() {
        if (loop != null) {
            loop.close();
        }
    }

    @Test
    void aStepDueInAnHourDoesNotRunAgainUntilWoken() throws Exception {
        AtomicInteger steps = new AtomicInteger();
        loop = new Loop("t", clock, heartbeats, Duration.ofSeconds(5), now -> {
            steps.incrementAndGet();
            return now.plus(Duration.ofHours(1));
        });
        loop.start();
        awaitSteps(steps, 1);
        Thread.sleep(300);
        assertEquals(1, steps.get(), "nothing ran between the first step and its due time");
        assertTrue(loop.due().isAfter(Instant.now().plus(Duration.ofMinutes(59))), "due in an hour: " + loop.due());
        assertTrue(heartbeats.wedged().isEmpty(), heartbeats.wedged().toString());
        loop.wake();
        awaitSteps(steps, 2);
    }

    @Test
    void aWakeDuringAStepRunsItOnceMoreRightAfter() throws Exception {
        CountDownLatch inStep = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger();
        loop = new Loop("t", clock, heartbeats, Duration.ofSeconds(5), now -> {
            if (steps.incrementAndGet() == 1) {
                inStep.countDown();
                await(release);
            }
            return now.plus(Duration.ofHours(1));
        });
        loop.start();
        assertTrue(inStep.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 5; i++) {
            loop.wake();
        }
        release.countDown();
        awaitSteps(steps, 2);
        Thread.sleep(300);
        assertEquals(2, steps.get(), "five wakes during one step owe exactly one more step");
    }

    @Test
    void aStepThatOverrunsItsBoundIsWedgedAndRecovers() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger();
        loop = new Loop("slow", clock, heartbeats, Duration.ofMillis(100), now -> {
            if (steps.incrementAndGet() == 1) {
                await(release);
            }
            return now.plus(Duration.ofHours(1));
        });
        loop.start();
        awaitSteps(steps, 1);
        Thread.sleep(400);
        List<String> wedged = heartbeats.wedged();
        assertEquals(1, wedged.size(), wedged.toString());
        assertTrue(wedged.get(0).startsWith("slow overdue by"), wedged.get(0));
        release.countDown();
        loop.awaitIdle();
        assertTrue(heartbeats.wedged().isEmpty(), "back within its due time: " + heartbeats.wedged());
    }

    @Test
    void aStepThatDeclaresALongerLimitIsNotWedgedWithinIt_andTheUsualBoundComesBackAfter() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch declared = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Loop> self = new java.util.concurrent.atomic.AtomicReference<>();
        loop = new Loop("run", clock, heartbeats, Duration.ofMillis(100), now -> {
            if (steps.incrementAndGet() == 1) {
                self.get().stepMayTake(Duration.ofMinutes(10));
                declared.countDown();
                await(release);
            }
            return now.plus(Duration.ofHours(1));
        });
        self.set(loop);
        loop.start();
        assertTrue(declared.await(5, TimeUnit.SECONDS));
        Thread.sleep(400);
        assertTrue(heartbeats.wedged().isEmpty(), "within its declared limit: " + heartbeats.wedged());
        release.countDown();
        loop.awaitIdle();
        Instant dueBy = Instant.parse(heartbeats.dueBy().get("run"));
        assertTrue(dueBy.isBefore(loop.due().plusSeconds(1)), "back to due time + 100 ms: " + dueBy);
    }

    @Test
    void aDueStepThatCannotStartBecauseTheThreadIsBusyIsWedged() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger();
        loop = new Loop("busy", clock, heartbeats, Duration.ofMillis(100), now -> {
            steps.incrementAndGet();
            return now.plusMillis(50);
        });
        loop.start();
        awaitSteps(steps, 1);
        loop.execute(() -> await(release));
        Thread.sleep(400);
        assertFalse(heartbeats.wedged().isEmpty(), "a due step that cannot start makes the loop wedged");
        release.countDown();
        awaitSteps(steps, steps.get() + 1);
        assertTrue(heartbeats.wedged().isEmpty(), heartbeats.wedged().toString());
    }

    @Test
    void aLoopWaitingForAnEventIsIdleNotWedged() throws Exception {
        List<Instant> runs = new CopyOnWriteArrayList<>();
        loop = new Loop("events", clock, heartbeats, Duration.ofMillis(50), now -> {
            runs.add(now);
            return null;
        });
        loop.start();
        while (runs.isEmpty()) {
            Thread.sleep(10);
        }
        loop.awaitIdle();
        Thread.sleep(200);
        assertTrue(heartbeats.wedged().isEmpty(), heartbeats.wedged().toString());
        assertEquals("idle", heartbeats.dueBy().get("events"));
        assertEquals(1, runs.size());
    }

    @Test
    void aThrowingStepIsRetriedLaterNotLost() throws Exception {
        AtomicInteger steps = new AtomicInteger();
        loop = new Loop("throws", clock, heartbeats, Duration.ofSeconds(5), now -> {
            steps.incrementAndGet();
            throw new IllegalStateException("boom");
        });
        loop.start();
        awaitSteps(steps, 1);
        loop.awaitIdle();
        Instant due = loop.due();
        assertTrue(due != null && due.isAfter(Instant.now().plus(Loop.AFTER_ERROR).minusSeconds(2)), "retry due " + due);
    }

    @Test
    void aDueTimeThatTheWallClockReachedWhileTheMonotonicClockStoodStillRunsAtTheNextCut() throws Exception {
        // A suspended laptop: the wall clock jumps an hour, the executor's monotonic sleep did not advance.
        Instant start = Instant.parse("2026-12-02T03:00:00Z");
        java.util.concurrent.atomic.AtomicReference<Instant> wall = new java.util.concurrent.atomic.AtomicReference<>(start);
        Clock suspended = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return wall.get();
            }
        };
        AtomicInteger steps = new AtomicInteger();
        loop = new Loop("cron", suspended, new Heartbeats(suspended), Duration.ofSeconds(5), now -> {
            steps.incrementAndGet();
            return now.plus(Duration.ofHours(1));
        }, Duration.ofMillis(50));
        loop.start();
        awaitSteps(steps, 1);
        Thread.sleep(200);
        assertEquals(1, steps.get(), "cut wakes before the due time run no step");
        wall.set(start.plus(Duration.ofHours(1)));
        awaitSteps(steps, 2);
    }

    @Test
    void submittedWorkGivesItsResult_andWorkNotRunWhenTheLoopClosesIsCancelled() throws Exception {
        CountDownLatch inStep = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        loop = new Loop("submit", clock, heartbeats, Duration.ofSeconds(5), now -> {
            inStep.countDown();
            await(release);
            return null;
        });
        assertEquals(42, loop.submit(() -> 42).get(5, TimeUnit.SECONDS));
        loop.start();
        assertTrue(inStep.await(5, TimeUnit.SECONDS));
        java.util.concurrent.CompletableFuture<Integer> queued = loop.submit(() -> 7);
        loop.close();
        release.countDown();
        assertTrue(queued.isCancelled(), "a caller waiting for work the closed loop never ran is told so");
        assertTrue(loop.submit(() -> 1).isCancelled(), "nothing is accepted after close");
    }

    private static void awaitSteps(AtomicInteger steps, int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (steps.get() < n) {
            if (System.nanoTime() > until) {
                throw new AssertionError("only " + steps.get() + " of " + n + " steps ran in 10 s");
            }
            Thread.sleep(5);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
