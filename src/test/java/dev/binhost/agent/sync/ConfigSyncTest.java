package dev.binhost.agent.sync;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.Verdict;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Freshness, the before-run refresh, status and metrics around real pulls from a loopback daemon. */
class ConfigSyncTest {
    @TempDir
    Path work;

    /** A clock the test moves forward. */
    static final class MovableClock extends Clock {
        Instant now = Instant.parse("2026-11-24T00:00:00Z");

        @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    @Test
    void refreshBeforeRun_whenThePullSucceeds_isOkAndFreshUntilMaxAgePasses() throws Exception {
        Path master = work.resolve("master");
        ConfigPullTest.write(master.resolve("package.use/01master"), "a/b x\n");
        try (RsyncDaemon daemon = RsyncDaemon.start(work, Map.of("portage-config", master))) {
            MovableClock clock = new MovableClock();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
            ConfigPull pull = new ConfigPull(config, new ConfigPull.Source("127.0.0.1", daemon.port,
                    "portage-config"), work.resolve("state"), new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1),
                    65536), clock);
            ConfigSync sync = new ConfigSync(config, pull, clock, new Heartbeats(clock), registry);
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
    }
}
