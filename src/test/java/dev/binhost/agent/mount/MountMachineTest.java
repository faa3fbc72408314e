package dev.binhost.agent.mount;

import dev.binhost.agent.mount.MountMachine.Action;
import dev.binhost.agent.mount.MountState.EmergeRunning;
import dev.binhost.agent.mount.MountState.Failed;
import dev.binhost.agent.mount.MountState.Mounted;
import dev.binhost.agent.mount.MountState.Owner;
import dev.binhost.agent.mount.MountState.ReleaseDeferred;
import dev.binhost.agent.mount.MountState.ReleaseFailed;
import dev.binhost.agent.mount.MountState.Released;
import dev.binhost.agent.mount.MountState.Stale;
import dev.binhost.agent.mount.MountState.Unmounted;
import dev.binhost.agent.mount.MountStatus.Phase;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mount state machine without threads, mounts or clocks: each transition and what it makes due. */
class MountMachineTest {
    private static final Duration PROBE = Duration.ofSeconds(30);
    private static final Duration RETRY = Duration.ofMinutes(5);
    private static final Duration RECHECK = Duration.ofSeconds(10);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Optional<Owner> OURS = Optional.of(new Owner(41, "0:52"));
    private static final EmergeRunning AGENTS_RUN = new EmergeRunning(true, List.of());
    private static final EmergeRunning ADMINS_EMERGE = new EmergeRunning(false, List.of(4242L));

    private final MountMachine machine = new MountMachine(PROBE, RETRY, RECHECK);

    private static Instant at(long seconds) {
        return T0.plusSeconds(seconds);
    }

    private Mounted ours(Instant now) {
        return machine.mounted(new Unmounted("not mounted yet", T0), OURS, "mounted by the agent: x", now);
    }

    @Test
    void unmounted_waitsForTheMaster_thenMountsAtOnce() {
        Unmounted s = new Unmounted("not mounted yet", T0);
        assertEquals(Action.NONE, machine.action(s, false, at(3600)));
        assertEquals(Optional.empty(), machine.due(s, false), "master not UP: only an event can change it");
        assertEquals(Action.MOUNT, machine.action(s, true, at(1)));
        assertEquals(Optional.of(T0), machine.due(s, true));
        assertEquals(Phase.NOT_MOUNTED, s.phase());
    }

    @Test
    void mounting_isNotDueForAnything() {
        MountState s = machine.mounting("mount -t nfs4 m:/p /p", T0);
        assertEquals(Action.NONE, machine.action(s, true, at(600)));
        assertEquals(Optional.empty(), machine.due(s, true));
        assertEquals("mounting: `mount -t nfs4 m:/p /p`", s.detail());
    }

    @Test
    void mounted_isProbedRightAway_thenEveryProbeInterval_whateverTheMaster() {
        Mounted m = ours(at(5));
        assertEquals(at(5), m.since());
        assertEquals(Action.PROBE, machine.action(m, false, at(5)), "probed right after mounting");
        MountState probed = machine.answered(m, at(6));
        assertEquals(Optional.of(at(36)), machine.due(probed, false));
        assertEquals(Action.NONE, machine.action(probed, true, at(35)));
        assertEquals(Action.PROBE, machine.action(probed, false, at(36)));
        assertEquals(at(5), probed.since(), "the phase did not change");
        assertEquals("mounted by the agent: x", probed.detail());
        assertEquals(OURS, probed.owner());
    }

    @Test
    void failedProbe_makesOurMountStale_releasedAtOnce_andMountedAgainAfterTheRetryInterval() {
        MountState stale = machine.stale(machine.answered(ours(T0), T0), "stale: no answer", at(30));
        assertEquals(Phase.STALE, stale.phase());
        assertEquals(Action.RELEASE, machine.action(stale, false, at(30)), "the agent's stale mount goes at once");

        Released released = machine.released(stale, "released lazily", "stale: no answer", at(31));
        assertEquals(Phase.STALE, released.phase(), "status still says why it went");
        assertEquals(at(30), released.since());
        assertEquals("released lazily: stale: no answer", released.detail());
        assertEquals(Optional.empty(), released.owner());
        assertEquals(Action.NONE, machine.action(released, true, at(30 + 299)));
        assertEquals(Action.MOUNT, machine.action(released, true, at(30 + 300)));
        assertEquals(Optional.empty(), machine.due(released, false));
    }

    @Test
    void aStaleForeignMount_staysAndIsLookedAtAgainAfterTheRetryInterval() {
        Mounted foreign = machine.mounted(new Unmounted("x", T0), Optional.empty(), "mounted outside the agent", T0);
        MountState stale = machine.stale(foreign, "stale: the probe failed", at(10));
        assertEquals(Action.NONE, machine.action(stale, true, at(11)), "not the agent's: nothing to release");
        assertEquals(Optional.of(at(310)), machine.due(stale, true));
        assertEquals(Action.MOUNT, machine.action(stale, true, at(310)));
        assertEquals(Action.NONE, machine.action(stale, false, at(310)));
    }

    @Test
    void releaseDeferredByAnEmerge_keepsWhyAndWho_andIsTriedAgainEveryRecheck() {
        Mounted m = ours(T0);
        ReleaseDeferred d = machine.deferred(m, "master went DOWN: refused", AGENTS_RUN, at(100));
        assertTrue(MountMachine.newDeferral(m, d));
        assertEquals("master went DOWN: refused", d.why());
        assertEquals(AGENTS_RUN, d.blocker());
        assertEquals(Phase.MOUNTED, d.phase());
        assertEquals(T0, d.since(), "the mount stays in its phase while the release waits");
        assertEquals(OURS, d.owner());
        assertEquals("master went DOWN: refused; release deferred: the agent's update run has an emerge running",
                d.detail());
        assertEquals(Action.NONE, machine.action(d, false, at(109)));
        assertEquals(Action.RELEASE, machine.action(d, false, at(110)));

        ReleaseDeferred again = machine.deferred(d, d.why(), AGENTS_RUN, at(110));
        assertFalse(MountMachine.newDeferral(d, again), "the same emerge again: not logged or counted again");
        assertEquals(at(100), again.deferredAt());
        assertEquals(at(120), again.checkAt(), "each re-check moves the next one on");
        assertSame(m, again.in());

        ReleaseDeferred admins = machine.deferred(again, d.why(), ADMINS_EMERGE, at(120));
        assertTrue(MountMachine.newDeferral(again, admins), "another emerge blocks now");
        assertEquals(List.of(4242L), ((EmergeRunning) admins.blocker()).pids());
        assertTrue(admins.detail().endsWith("release deferred: emerge is running (pid 4242)"), admins.detail());

        Released released = machine.released(admins, "released", admins.why(), at(130));
        assertEquals(Phase.NOT_MOUNTED, released.phase());
        assertEquals("released: master went DOWN: refused", released.detail());
        assertEquals(Optional.empty(), machine.due(released, false), "the master is DOWN: nothing due");
        assertEquals(Action.MOUNT, machine.action(released, true, at(131)), "the master is back: mount again");
    }

    @Test
    void theMasterComingBack_cancelsARelease_butNotAStaleOne() {
        Mounted m = (Mounted) machine.answered(ours(T0), at(1));
        ReleaseDeferred d = machine.deferred(m, "master went DOWN", AGENTS_RUN, at(50));
        assertEquals(Action.CANCEL_RELEASE, machine.action(d, true, at(51)));
        assertEquals(Optional.of(at(50)), machine.due(d, true), "cancelled in the next round, not at the re-check");
        MountState back = machine.cancelled(d);
        assertTrue(back instanceof Mounted, back.toString());
        assertEquals("release cancelled: the master is back", back.detail());
        assertEquals(T0, back.since());
        assertEquals(Optional.of(at(31)), machine.due(back, true), "probed at its old due time");

        ReleaseDeferred staleRelease = machine.deferred(machine.stale(m, "stale: x", at(60)), "stale: x",
                AGENTS_RUN, at(60));
        assertTrue(staleRelease.forStale());
        assertEquals(Action.NONE, machine.action(staleRelease, true, at(61)));
        assertEquals(Action.RELEASE, machine.action(staleRelease, true, at(70)));
        assertEquals(Phase.STALE, staleRelease.phase());
    }

    @Test
    void aFailedRelease_isTriedAgainAfterTheRetryInterval() {
        ReleaseDeferred d = machine.deferred(ours(T0), "master went DOWN",
                new ReleaseFailed("umount -l /p failed: invalid argument"), at(10));
        assertEquals(at(310), d.checkAt());
        assertEquals("master went DOWN; umount -l /p failed: invalid argument", d.detail());
        assertEquals(Action.RELEASE, machine.action(d, false, at(310)));
    }

    @Test
    void aProbeThatAnswersWhileAReleaseWaits_leavesItWaiting() {
        ReleaseDeferred d = machine.deferred(ours(T0), "master went DOWN", AGENTS_RUN, at(10));
        assertSame(d, machine.answered(d, at(11)));
    }

    @Test
    void failed_retriesAfterTheRetryIntervalWhileTheMasterIsUp_andKeepsItsSince() {
        Failed f = machine.failed(new Unmounted("x", T0), Optional.empty(), "mount point /p does not exist", at(1));
        assertEquals(Phase.ERROR, f.phase());
        assertEquals(Action.NONE, machine.action(f, true, at(300)));
        assertEquals(Action.MOUNT, machine.action(f, true, at(301)));
        assertEquals(Optional.empty(), machine.due(f, false));
        Failed again = machine.failed(f, Optional.empty(), "mount point /p does not exist", at(301));
        assertEquals(at(1), again.since(), "still failing since the first failure");
        assertEquals(at(601), again.retryAt());
    }

    @Test
    void unmountedOutsideTheAgent_dropsTheOwner() {
        Unmounted u = machine.unmounted(ours(T0), "unmounted outside the agent", at(9));
        assertEquals(Optional.empty(), u.owner());
        assertEquals(at(9), u.since());
    }

    @Test
    void onlyTheAgentsMountedOrStaleMountCanWaitForARelease() {
        assertThrows(IllegalArgumentException.class, () -> new ReleaseDeferred(new Unmounted("x", T0), "why",
                AGENTS_RUN, T0, T0));
        Mounted foreign = new Mounted(Optional.empty(), "mounted outside the agent", T0, T0);
        assertThrows(IllegalArgumentException.class, () -> new ReleaseDeferred(foreign, "why", AGENTS_RUN, T0, T0));
        new ReleaseDeferred(new Stale(OURS, "stale", T0, T0), "stale", AGENTS_RUN, T0, T0);
    }
}
