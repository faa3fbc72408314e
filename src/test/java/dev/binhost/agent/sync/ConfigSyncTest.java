package dev.binhost.agent.sync;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.master.MasterState;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.metrics.MetricsReady;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.Verdict;
import dev.binhost.agent.testing.RsyncDaemon;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Freshness, the before-run refresh, status and metrics around real pulls from a loopback daemon. */
class ConfigSyncTest {
    @TempDir
    Path work;
    Path master;
    RsyncDaemon daemon;

    /** A master serving one 01* file, as portage-config on a loopback daemon. */
    @BeforeEach
    void startMaster() throws Exception {
        master = work.resolve("master");
        ConfigPullTest.write(master.resolve("package.use/01master"), "a/b x\n");
        daemon = RsyncDaemon.start(work, Map.of("portage-config", master));
    }

    /** Every sync a test made: their loops' threads end with the test. */
    final List<ConfigSync> syncs = new java.util.ArrayList<>();

    @AfterEach
    void stopMaster() throws InterruptedException {
        syncs.forEach(s -> s.stop(null));
        daemon.close();
    }

    /** A clock the test moves forward. */
    static final class MovableClock extends Clock {
        Instant now = Instant.parse("2026-11-24T00:00:00Z");

        @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    @Test
    void refreshBeforeRun_whenThePullSucceeds_isOkAndFreshUntilMaxAgePasses() throws Exception {
        MovableClock clock = new MovableClock();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        ConfigSync sync = sync(config, clock, registry);
        assertFalse(sync.freshness().ok());
        assertFalse(sync.firstAttemptDone());

        Verdict v = sync.refreshBeforeRun();

        assertTrue(v.ok(), v.detail());
        assertTrue(sync.freshness().ok());
        assertEquals("APPLIED", sync.status().get("lastOutcome"));
        assertEquals(1.0, registry.counter("binhost.sync.pulls", "outcome", "applied").count());
        assertEquals(1.0, registry.counter("binhost.sync.files", "change", "added").count());

        clock.now = clock.now.plus(config.maxAge()).plusSeconds(1);
        assertFalse(sync.freshness().ok(), "a pull older than max-age is not fresh");

        daemon.close();
        Verdict stale = sync.refreshBeforeRun();
        assertFalse(stale.ok(), stale.detail());
        assertTrue(stale.detail().contains("Connection refused"), stale.detail());
        assertEquals(1.0, registry.counter("binhost.sync.pulls", "outcome", "failed").count());
    }

    ConfigSync sync(TestSyncConfig config, Clock clock, SimpleMeterRegistry registry) {
        return sync(config, clock, registry, () -> false);
    }

    /** A sync pulling from {@code daemon} into {@code config}'s tree, state in the test's dir. */
    ConfigSync sync(TestSyncConfig config, Clock clock, SimpleMeterRegistry registry,
            java.util.function.BooleanSupplier emergeRunning) {
        return track(new ConfigSync(config, pull(config, clock), clock, new Heartbeats(clock), registry,
                emergeRunning));
    }

    @Test
    void freshness_afterARestart_goesOnFromTheLastRecordedSuccess() throws Exception {
        MovableClock clock = new MovableClock();
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        assertTrue(sync(config, clock, new SimpleMeterRegistry()).pullNow("test").succeeded());
        Instant pulledAt = clock.now;
        clock.now = clock.now.plusSeconds(600);

        ConfigSync restarted = sync(config, clock, new SimpleMeterRegistry());

        assertTrue(restarted.freshness().ok(), restarted.freshness().detail());
        assertEquals(pulledAt.toString(), restarted.status().get("lastSuccess"));
        assertTrue(restarted.freshness().detail().contains("10m ago"), restarted.freshness().detail());
        clock.now = pulledAt.plus(config.maxAge()).plusSeconds(1);
        assertFalse(sync(config, clock, new SimpleMeterRegistry()).freshness().ok(),
                "a recorded pull older than max-age is not fresh after a restart either");
    }

    @Test
    void masterUp_whileAPullIsRunning_runsOneMorePullAfterIt() throws Exception {
        Path gate = work.resolve("gate");
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        config.pullOnMasterUp = true;
        // The real rsync, held back until the test opens the gate: a pull that is still running.
        config.rsyncCommand = List.of("sh", "-c", "while [ ! -e '" + gate + "' ]; do sleep 0.02; done; "
                + "exec rsync \"$@\"", "rsync-after-gate");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ConfigSync sync = sync(config, Clock.systemUTC(), registry);
        MasterTransition up = masterUp();
        try {
            sync.onMasterTransition(up);
            // Until the loop has started that pull, more UPs only join the owed one.
            awaitStatus(sync, "state", "running");
            for (int i = 0; i < 5; i++) {
                sync.onMasterTransition(up);
            }
            Files.createFile(gate);

            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (pulls(registry) < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(2.0, pulls(registry), "the running pull, then one follow-up for all five UPs");
            assertEquals(1.0, registry.counter("binhost.sync.pulls", "outcome", "applied").count());
            assertEquals(1.0, registry.counter("binhost.sync.pulls", "outcome", "unchanged").count());
            Thread.sleep(500);
            assertEquals(2.0, pulls(registry), "no third pull");
        } finally {
            sync.stop(null);
        }
    }

    static double pulls(SimpleMeterRegistry registry) {
        return registry.find("binhost.sync.pulls").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    @Test
    void rollback_holdsPullsAtTheRestoredSet_acrossARestart_untilPullConfig() throws Exception {
        MovableClock clock = new MovableClock();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        ConfigSync sync = sync(config, clock, registry);
        assertTrue(sync.pullConfig("test").ok());
        Files.writeString(master.resolve("package.use/01master"), "a/b x y\n");
        Verdict second = sync.pullConfig("test");
        assertTrue(second.ok(), second.detail());
        assertTrue(second.detail().startsWith("applied: "), second.detail());
        Path live = config.portageDir.resolve("package.use/01master");

        Verdict back = sync.rollbackConfig("test");

        assertTrue(back.ok(), back.detail());
        assertEquals("a/b x\n", Files.readString(live));
        assertEquals(1.0, registry.get("binhost.sync.held").gauge().value());
        Verdict beforeRun = sync.refreshBeforeRun();
        assertTrue(beforeRun.ok(), beforeRun.detail());
        assertTrue(beforeRun.detail().contains("held"), beforeRun.detail());
        assertEquals("a/b x\n", Files.readString(live), "the run's refresh must not undo the rollback");
        assertTrue(sync.freshness().ok(), "held is fresh by the admin's choice");

        config.pullOnMasterUp = true;
        ConfigSync restarted = sync(config, clock, new SimpleMeterRegistry());
        assertFalse(restarted.firstAttemptDone());
        restarted.onMasterTransition(masterUp()); // the first pull after the restart meets the hold
        awaitFirstAttempt(restarted);
        assertTrue(new FirstPullStep(restarted).attempted().ok());
        assertTrue(new FirstPullStep(restarted).attempted().detail().startsWith("held at the set rolled back"),
                new FirstPullStep(restarted).attempted().detail());
        assertTrue(restarted.refreshBeforeRun().detail().contains("held"), "the hold survives a restart");
        assertEquals("a/b x\n", Files.readString(live));

        Verdict resumed = restarted.pullConfig("test");
        assertTrue(resumed.ok(), resumed.detail());
        assertEquals("a/b x y\n", Files.readString(live));
        assertEquals(null, restarted.status().get("heldSince"));
        assertTrue(restarted.refreshBeforeRun().detail().startsWith("config pulled"),
                "pulls run again after pull-config");
        restarted.stop(null);
    }

    @Test
    void rollback_withoutABackup_isNotDoneAndHoldsNothing() throws Exception {
        ConfigSync sync = sync(new TestSyncConfig(work.resolve("slave")), new MovableClock(),
                new SimpleMeterRegistry());

        Verdict back = sync.rollbackConfig("test");

        assertFalse(back.ok());
        assertTrue(back.detail().contains("no backup"), back.detail());
        assertEquals(null, sync.status().get("heldSince"));
    }

    @Test
    void masterUp_whileAnEmergeRuns_isPutOffUntilItEnds_thenTheLoopPulls() throws Exception {
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        config.pullOnMasterUp = true;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        java.util.concurrent.atomic.AtomicBoolean emerging = new java.util.concurrent.atomic.AtomicBoolean(true);
        ConfigSync sync = sync(config, Clock.systemUTC(), registry, emerging::get);
        MasterTransition up = masterUp();
        try {
            sync.onMasterTransition(up);
            awaitStatus(sync, "putOff", "master up (an emerge is running)");
            assertTrue(sync.firstAttemptDone(), "a pull put off by emerge is the first attempt: started turns UP");
            assertEquals("put off: an emerge is running", new FirstPullStep(sync).attempted().detail());
            assertEquals("put off", sync.status().get("state"));
            sync.wake(); // the put-off re-check, early
            sync.awaitLoop();
            assertEquals("put off", sync.status().get("state"));
            assertEquals(0.0, pulls(registry), "no pull while the emerge runs");
            assertFalse(Files.exists(config.portageDir.resolve("package.use/01master")));

            emerging.set(false);
            sync.wake();

            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (pulls(registry) < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1.0, registry.counter("binhost.sync.pulls", "outcome", "applied").count());
            assertEquals("a/b x\n", Files.readString(config.portageDir.resolve("package.use/01master")));
            assertEquals(null, sync.status().get("putOff"));
        } finally {
            sync.stop(null);
        }
    }

    @Test
    void loop_sleepsUntilTheNextScheduledPull_andWithTheScheduleOffUntilAnEvent() throws Exception {
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        config.interval = Duration.ofHours(1);
        Heartbeats heartbeats = new Heartbeats(Clock.systemUTC());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ConfigSync hourly = track(new ConfigSync(config, pull(config, Clock.systemUTC()), Clock.systemUTC(),
                heartbeats, registry, () -> false));

        hourly.onStart(null, MetricsReady.now());
        awaitStatus(hourly, "lastOutcome", "APPLIED");
        hourly.awaitLoop();

        assertEquals(1.0, pulls(registry), "the first step pulls, then nothing until the next scheduled pull");
        assertEquals("idle", hourly.status().get("state"));
        Instant next = Instant.parse((String) hourly.status().get("nextScheduled"));
        assertTrue(next.isAfter(Instant.now().plus(Duration.ofMinutes(59))), "next pull in an hour: " + next);
        assertTrue(heartbeats.wedged().isEmpty(), heartbeats.wedged().toString());
        hourly.stop(null);

        config.interval = Duration.ZERO;
        Heartbeats quiet = new Heartbeats(Clock.systemUTC());
        ConfigSync off = track(new ConfigSync(config, pull(config, Clock.systemUTC()), Clock.systemUTC(), quiet,
                new SimpleMeterRegistry(), () -> false));
        off.onStart(null, MetricsReady.now());
        off.awaitLoop();
        assertEquals("idle", quiet.dueBy().get(ConfigSync.LOOP), "schedule off: the loop waits for an event");
        assertEquals(null, off.status().get("nextScheduled"));
        assertFalse(off.firstAttemptDone(), "no attempt until an event asks for a pull");
    }

    ConfigPull pull(TestSyncConfig config, Clock clock) {
        return new ConfigPull(config, new ConfigPull.Source("127.0.0.1", daemon.port, "portage-config"),
                work.resolve("state"), new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1), 65536), clock);
    }

    ConfigSync track(ConfigSync sync) {
        syncs.add(sync);
        return sync;
    }

    static MasterTransition masterUp() {
        return new MasterTransition(
                new MasterState(MasterState.Status.DOWN, Instant.now(), "down", 2, 0, null, List.of()),
                new MasterState(MasterState.Status.UP, Instant.now(), "up", 0, 2, null, List.of()));
    }

    static void awaitFirstAttempt(ConfigSync sync) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!sync.firstAttemptDone() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(sync.firstAttemptDone(), "the first attempt finished");
    }

    static void awaitStatus(ConfigSync sync, String key, Object value) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!java.util.Objects.equals(value, sync.status().get(key)) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(value, sync.status().get(key));
    }
}
