package dev.binhost.agent.master;

import dev.binhost.agent.master.MasterState.Status;
import dev.binhost.agent.testing.Sh;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A master in a network namespace of its own, reached over a veth pair, whose link is cut and restored. The test
 * subnet gets an unreachable route on the host, so no probe can ever leave through the default route.
 */
class MasterLinkCutTest {
    private final long id = ProcessHandle.current().pid() % 10000;
    private final int octet = (int) (ProcessHandle.current().pid() % 200) + 20;
    private final String ns = "bh-mw-" + id;
    private final String hostIf = "bhh" + id;
    private final String masterIf = "bhm" + id;
    private final String subnet = "10.213." + octet + ".0/24";
    private final String masterIp = "10.213." + octet + ".2";

    @TempDir
    Path tmp;
    private Process daemon;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Sh.root(), "needs root for network namespaces (CI runs as root)");
        Files.createDirectories(tmp.resolve("tree/make.conf"));
        Files.writeString(tmp.resolve("rsyncd.conf"), "use chroot = no\nread only = yes\n[portage-config]\n  path = "
                + tmp.resolve("tree") + "\n");
        Sh.run("ip route add unreachable " + subnet
                + " && ip netns add " + ns
                + " && ip link add " + hostIf + " type veth peer name " + masterIf
                + " && ip link set " + masterIf + " netns " + ns
                + " && ip addr add 10.213." + octet + ".1/30 dev " + hostIf + " && ip link set " + hostIf + " up"
                + " && ip netns exec " + ns + " ip addr add " + masterIp + "/30 dev " + masterIf
                + " && ip netns exec " + ns + " ip link set " + masterIf + " up"
                + " && ip netns exec " + ns + " ip link set lo up");
        daemon = new ProcessBuilder("ip", "netns", "exec", ns, "rsync", "--daemon", "--no-detach",
                "--config=" + tmp.resolve("rsyncd.conf"), "--port=873", "--address=" + masterIp)
                .redirectErrorStream(true).redirectOutput(tmp.resolve("rsyncd.out").toFile()).start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.destroyForcibly().waitFor();
        }
        Sh.quietly("ip link del " + hostIf);
        Sh.quietly("ip netns del " + ns);
        Sh.quietly("ip route del unreachable " + subnet);
    }

    @Test
    void watch_whenMastersLinkIsCut_goesDownAfterThresholdWithEachRoundBounded_andComesBackUp() throws Exception {
        TestMasterConfig config = TestMasterConfig.rsyncOnly(masterIp, 873);
        List<Probe> probes = MasterWatch.probesFor(config);
        Hysteresis hysteresis = new Hysteresis(config.downAfterFailures(), config.upAfterSuccesses());

        MasterState state = MasterState.initial(Instant.now());
        for (int i = 0; i < 50 && state.status() != Status.UP; i++) {
            state = MasterState.initial(Instant.now());
            state = hysteresis.next(state, round(probes), Instant.now());
            Thread.sleep(100);
        }
        assertEquals(Status.UP, state.status(), state.reason());

        Sh.run("ip netns exec " + ns + " ip link set " + masterIf + " down");
        for (int i = 1; i <= config.downAfterFailures(); i++) {
            long start = System.nanoTime();
            state = hysteresis.next(state, round(probes), Instant.now());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(config.probeTimeout().plusMillis(500)) < 0, "round " + i + " took " + took);
            assertEquals(i < config.downAfterFailures() ? Status.UP : Status.DOWN, state.status(), "after round " + i);
        }
        assertTrue(state.reason().contains("rsync: ") && (state.reason().contains("timed out")
                || state.reason().contains("no route")), state.reason());

        Sh.run("ip netns exec " + ns + " ip link set " + masterIf + " up");
        List<ProbeResult> r = round(probes);
        for (int i = 0; i < 30 && !r.get(0).ok(); i++) {
            state = hysteresis.next(state, r, Instant.now());
            Thread.sleep(200);
            r = round(probes);
        }
        state = hysteresis.next(state, r, Instant.now());
        assertTrue(r.get(0).ok(), "the master answers again once its link is up: " + r);
        assertEquals(Status.DOWN, state.status(), "one good round is not enough");
        state = hysteresis.next(state, round(probes), Instant.now());
        assertEquals(Status.UP, state.status(), state.reason());
        assertFalse(state.lastRound().isEmpty());
    }

    private static List<ProbeResult> round(List<Probe> probes) {
        return probes.stream().map(Probe::probe).toList();
    }
}
