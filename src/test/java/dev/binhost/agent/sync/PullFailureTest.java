package dev.binhost.agent.sync;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.master.MasterState;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A pull that throws something unexpected is a FAILED pull: counted, logged, shown in status. */
class PullFailureTest {
    @TempDir
    Path work;

    /** A runner that fails the way a bug or an odd file name makes a pull fail: with a RuntimeException. */
    static final class ThrowingRunner extends ProcessRunner {
        ThrowingRunner() {
            super(new JnrPosix(), Duration.ofSeconds(1), 4096);
        }

        @Override
        public CommandResult run(Command command) {
            throw fault();
        }

        @Override
        public Running start(Command command) {
            throw fault();
        }

        static RuntimeException fault() {
            return new java.nio.file.InvalidPathException("01caf\u00e9", "Malformed input or input contains "
                    + "unmappable characters");
        }
    }

    ConfigSync sync(TestSyncConfig config, SimpleMeterRegistry registry) {
        ConfigPull pull = new ConfigPull(config, new ConfigPull.Source("127.0.0.1", 1, "portage-config"),
                work.resolve("state"), new ThrowingRunner(), Clock.systemUTC());
        return new ConfigSync(config, pull, Clock.systemUTC(), new Heartbeats(Clock.systemUTC()), registry,
                () -> false);
    }

    /** Collects what the pull classes log, through the logging API the JVM has (JUL is the common ground). */
    static final class Captured extends java.util.logging.Handler {
        final List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override public void publish(java.util.logging.LogRecord r) { records.add(r); }
        @Override public void flush() { }
        @Override public void close() { }
    }

    @Test
    void pullNow_whenThePullThrows_isAFailedPullCountedLoggedAndShownInStatus() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ConfigSync sync = sync(new TestSyncConfig(work.resolve("slave")), registry);
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.binhost.agent.sync");
        Captured captured = new Captured();
        logger.addHandler(captured);
        try {
            PullResult r = sync.pullNow("test");

            assertTrue(captured.records.stream().anyMatch(l -> l.getLevel().intValue()
                    >= java.util.logging.Level.WARNING.intValue() && l.getMessage().contains("failed unexpectedly")),
                    "an error line says the pull failed");

            assertEquals(PullResult.Outcome.FAILED, r.outcome());
            assertTrue(r.message().contains("InvalidPathException"), r.message());
            assertEquals(1.0, registry.counter("binhost.sync.pulls", "outcome", "failed").count());
            assertEquals("FAILED", sync.status().get("lastOutcome"));
            assertTrue(sync.firstAttemptDone());
        } finally {
            logger.removeHandler(captured);
            sync.stop(null);
        }
    }

    @Test
    void masterUpPull_whenThePullThrows_isCountedAsFailedNotSwallowed() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        config.pullOnMasterUp = true;
        ConfigSync sync = sync(config, registry);
        try {
            sync.onMasterTransition(new MasterTransition(
                    new MasterState(MasterState.Status.DOWN, Instant.now(), "down", 2, 0, null, List.of()),
                    new MasterState(MasterState.Status.UP, Instant.now(), "up", 0, 2, null, List.of())));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (ConfigSyncTest.pulls(registry) < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1.0, registry.counter("binhost.sync.pulls", "outcome", "failed").count());
            assertEquals("FAILED", sync.status().get("lastOutcome"));
            assertTrue(String.valueOf(sync.status().get("lastMessage")).contains("01caf"),
                    String.valueOf(sync.status().get("lastMessage")));
        } finally {
            sync.stop(null);
        }
    }
}
