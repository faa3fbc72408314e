package dev.binhost.agent.mount;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.master.MasterState;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.metrics.MetricsReady;
import dev.binhost.agent.mount.MountConfig.DownPolicy;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.ProcessRunner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mount watch's step called directly (no loop thread, no mount): what it does and when it says it is next
 * due. A missing mount point fails before any mount command runs, so this needs neither root nor a server.
 */
class MountWatchTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private final Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Heartbeats heartbeats = new Heartbeats(clock);
    private final AtomicBoolean masterUp = new AtomicBoolean();

    private MountManager manager(Map<String, MountConfig.MountSpec> specs, Path dir) throws Exception {
        Path mountinfo = Files.writeString(dir.resolve("mountinfo"),
                "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
        TestMountConfig base = TestMountConfig.of(specs, DownPolicy.RELEASE);
        TestMountConfig config = new TestMountConfig(specs, DownPolicy.RELEASE, Duration.ofSeconds(30),
                base.probeTimeout(), base.commandTimeout(), Duration.ofMinutes(5), mountinfo, dir.resolve("proc"),
                base.makeConf());
        return new MountManager(config, new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1), 4096), registry,
                clock, new EmergeGuard(new dev.binhost.agent.portage.EmergeActivity(dir.resolve("proc"))), Optional.empty());
    }

    private MountWatch watch(MountManager mounts) {
        return new MountWatch(mounts, masterUp::get, heartbeats, clock);
    }

    @Test
    void noMountConfigured_nothingIsEverDue_andTheLoopIsNotStarted(@TempDir Path dir) throws Exception {
        MountWatch watch = watch(manager(Map.of(), dir));
        masterUp.set(true);
        assertNull(watch.step(T0));
        watch.start(null, MetricsReady.now());
        assertNull(watch.due(), "never scheduled");
        assertEquals("idle", heartbeats.dueBy().get(MountWatch.LOOP));
        assertTrue(heartbeats.wedged().isEmpty());
    }

    @Test
    void masterDown_aMountConfigured_theStepDoesNothingAndWaitsForTheEvent(@TempDir Path dir) throws Exception {
        MountManager mounts = manager(Map.of("packages", new TestSpec(dir.resolve("nope"), false, "m:/p", null,
                null)), dir);
        MountStatus before = mounts.status("packages");
        assertNull(watch(mounts).step(T0));
        assertSame(before, mounts.status("packages"));
    }

    @Test
    void masterUp_mountPointMissing_failsOnce_andIsNextDueAtTheRetry(@TempDir Path dir) throws Exception {
        MountManager mounts = manager(Map.of("packages", new TestSpec(dir.resolve("nope"), false, "m:/p", null,
                null)), dir);
        MountWatch watch = watch(mounts);
        masterUp.set(true);

        assertEquals(T0.plus(Duration.ofMinutes(5)), watch.step(T0));
        MountStatus failed = mounts.status("packages");
        assertEquals(MountStatus.Phase.ERROR, failed.phase());
        assertTrue(failed.state() instanceof MountState.Failed, failed.toString());
        assertEquals("failed", failed.state().name());

        assertEquals(T0.plus(Duration.ofMinutes(5)), watch.step(T0), "a round before the retry time changes nothing");
        assertSame(failed, mounts.status("packages"));
        assertTrue(registry.find("binhost.mount.operations").counters().isEmpty(), "no mount command was run");
    }

    @Test
    void masterComesUp_mountsOnTheLoopsThread_andTheLoopIsNextDueAtTheRetry(@TempDir Path dir) throws Exception {
        MountManager mounts = manager(Map.of("packages", new TestSpec(dir.resolve("nope"), false, "m:/p", null,
                null)), dir);
        MountWatch watch = watch(mounts);
        try {
            masterUp.set(true);
            watch.onMaster(new MasterTransition(MasterState.initial(T0),
                    new MasterState(MasterState.Status.UP, T0, "rsync answered", 0, 1, T0, List.of())));
            watch.awaitIdle();
            assertEquals(MountStatus.Phase.ERROR, mounts.status("packages").phase());
            assertEquals(T0.plus(Duration.ofMinutes(5)), watch.due(), "the round after the event set the due time");
            assertEquals(T0.plus(Duration.ofMinutes(5)).plus(MountWatch.roundBound(mounts.config(), 1)).toString(),
                    heartbeats.dueBy().get(MountWatch.LOOP), "liveness expects it by its due time plus its bound");
        } finally {
            watch.stop(null);
        }
    }

    @Test
    void statusKeys_areTheCliKeysPlusTheStateName(@TempDir Path dir) throws Exception {
        MountManager mounts = manager(Map.of("packages", new TestSpec(dir.resolve("nope"), false, "m:/p", null,
                null)), dir);
        Map<?, ?> status = (Map<?, ?>) new MountsPrecondition(mounts).status().get("packages");
        assertEquals(List.of("target", "phase", "ownedByAgent", "since", "detail", "releasePending", "lastProbe",
                "lastProbeMillis", "state"), List.copyOf(status.keySet().stream().map(Object::toString).toList()));
        assertEquals("unmounted", status.get("state"));
        assertEquals("NOT_MOUNTED", status.get("phase"));
        assertEquals(false, status.get("releasePending"));
    }

    @Test
    void roundBound_coversEveryCommandOfEveryMount() {
        TestMountConfig config = TestMountConfig.of(Map.of(), DownPolicy.RELEASE);
        assertEquals(Duration.ofSeconds(3 * 20 + 2 * 2).multipliedBy(2).plusMinutes(1), MountWatch.roundBound(config, 2));
    }
}
