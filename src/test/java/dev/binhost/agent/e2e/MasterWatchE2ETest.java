package dev.binhost.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent in a slave namespace against a master namespace over a veth link: what monitoring sees when
 * the master is away at start, comes up, loses its link, or flaps; and the agent's memory over many probe rounds.
 */
class MasterWatchE2ETest extends E2eTest {

    /** The agent with the master watch's keys only (no mounts, no runs), plus {@code overrides}. */
    private Map<String, String> watchOnly(Map<String, String> overrides) {
        Map<String, String> config = SlaveAgent.baseConfig(rig);
        config.putAll(overrides);
        return config;
    }

    @Test
    void start_whenMasterIsDown_isLiveNotReadyAndSaysWhy_thenReadyWithinSecondsOfMasterComingUp() throws Exception {
        start(watchOnly(Map.of()));
        // Started: the first probe round and the first (scheduled, failing) config pull are done.
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> agent.get("/q/health/started").status() == 200),
                "the first probe round and pull attempt");

        SlaveAgent.Answer ready = agent.get("/q/health/ready");
        assertEquals(503, ready.status(), ready.body());
        JsonNode master = ready.check("master");
        assertEquals("DOWN", master.path("status").asText(), ready.body());
        assertTrue(SlaveAgent.data(master, "reason").contains("connection refused by " + rig.masterIp + ":873"),
                ready.body());
        SlaveAgent.Answer live = agent.get("/q/health/live");
        assertEquals(200, live.status(), live.body());
        assertEquals(0.0, agent.metric("binhost_master_up"));

        rig.startMaster();
        long t0 = System.nanoTime();
        agent.await(Duration.ofSeconds(15), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness after the master came up");
        Duration toReady = Duration.ofNanos(System.nanoTime() - t0);
        E2e.figure("time to ready after master up", toReady);
        // One good round is enough here (up-after-successes=1); the time is a figure, not an assertion.

        ready = agent.get("/q/health/ready");
        assertTrue(SlaveAgent.data(ready.check("master"), "reason").contains("@RSYNCD:"), ready.body());
        String metrics = agent.get("/q/metrics").body();
        assertEquals(1.0, SlaveAgent.metric(metrics, "binhost_master_up"));
        assertEquals(1.0, SlaveAgent.metric(metrics, "binhost_master_transitions_total{to=\"up\"}"), metrics);
        assertEquals(1, agent.lines("Master " + rig.masterIp + " is UP"), agent.log());
    }

    @Test
    void linkCut_turnsReadyDownWithinTheConfiguredBound_liveStaysUp_andRecoversWhenRestored() throws Exception {
        rig.startMaster();
        start(watchOnly(Map.of()));
        agent.await(Duration.ofSeconds(15), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness with the master up");
        // The first UP happens within the first rounds, as the agent starts: it is counted like any other.
        assertEquals(1.0, agent.metric("binhost_master_transitions_total{to=\"up\"}"), agent.log());
        assertEquals(1, agent.lines("Master " + rig.masterIp + " is UP"), agent.log());

        rig.linkDown();
        long t0 = System.nanoTime();
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> agent.get("/q/health/ready").status() == 503),
                "readiness DOWN after the link cut");
        Duration toNotReady = Duration.ofNanos(System.nanoTime() - t0);
        E2e.figure("time to not-ready after link cut", toNotReady);
        // The documented bound: down-after-failures × (probe-interval + jitter + one round's timeouts), plus one
        // scheduler tick (1 s) before the first failing round and 250 ms for this test's polling.
        Duration bound = Duration.ofMillis(2 * (500 + 0 + 500 + 500) + 1000 + 250);
        assertTrue(toNotReady.compareTo(bound) <= 0, "not ready after " + toNotReady + ", bound " + bound);

        SlaveAgent.Answer ready = agent.get("/q/health/ready");
        String reason = SlaveAgent.data(ready.check("master"), "reason");
        assertTrue(reason.contains("rsync: ") && (reason.contains("timed out") || reason.contains("no route")),
                ready.body());
        assertEquals(200, agent.get("/q/health/live").status(), "a dead link never makes the agent unlive");
        assertEquals(1.0, agent.metric("binhost_master_transitions_total{to=\"down\"}"));

        rig.linkUp();
        agent.await(Duration.ofSeconds(15), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness after the link came back");
        assertEquals(1, agent.lines("Master " + rig.masterIp + " is DOWN"), agent.log());
    }

    @Test
    void flappingLink_cutEveryTwoSecondsForAMinute_causesNoTransitionStorm_andBoundedLogLines()
            throws Exception {
        rig.startMaster();
        // The whole slave (with the export mounted), the shipped hysteresis (3 failed rounds to go DOWN, 2 good
        // ones to come back) and fast probes.
        Map<String, String> config = SlaveAgent.slaveConfig(rig, SlaveE2ETest.PRETEND, SlaveE2ETest.MERGE, "0");
        config.put("binhost.master.down-after-failures", "3");
        config.put("binhost.master.up-after-successes", "2");
        start(config);
        agent.await(Duration.ofSeconds(15), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness with the master up");
        long linesBefore = agent.log().lines().count();
        double mountOpsBefore = agent.metric("binhost_mount_operations_total");
        double roundsBefore = agent.metric("binhost_master_probe_duration_seconds_count");

        // Cut for 0.6 s in every 2 s. A failed round takes connect-timeout plus the interval (1 s), so three
        // failures in a row need an outage of 2 s, or a round that skips a whole 1.4 s up-phase; each outage still
        // catches a round (0.5 s apart while the link is up). With a 1 s cut in every 2 s, failed rounds 1 s apart
        // met the next outage whenever a loaded machine stretched one by a few milliseconds (CI saw 6 transitions).
        long longestCut = 0;
        for (int i = 0; i < 30; i++) {
            long cut = System.nanoTime();
            rig.linkDown();
            Thread.sleep(600);
            rig.linkUp();
            longestCut = Math.max(longestCut, System.nanoTime() - cut);
            Thread.sleep(1400);
        }
        E2e.figure("flapping 60 s: longest cut", Duration.ofNanos(longestCut));

        String metrics = agent.get("/q/metrics").body();
        double rounds = SlaveAgent.metric(metrics, "binhost_master_probe_duration_seconds_count") - roundsBefore;
        double failed = SlaveAgent.metric(metrics,
                "binhost_master_probe_duration_seconds_count{outcome=\"failure\",probe=\"rsync\"}");
        double transitions = SlaveAgent.metric(metrics, "binhost_master_transitions_total") - 1;
        long transitionLines = agent.lines("Master " + rig.masterIp + " is (UP|DOWN)") - 1;
        long newLines = agent.log().lines().count() - linesBefore;
        E2e.figure("flapping 60 s: probe rounds", rounds);
        E2e.figure("flapping 60 s: failed rounds", failed);
        E2e.figure("flapping 60 s: transitions", transitions);
        E2e.figure("flapping 60 s: new log lines", newLines);
        assertTrue(rounds >= 40, "the agent kept probing through the flapping: " + rounds);
        assertTrue(failed >= 10, "the cuts were seen by the probes: " + failed);
        // Each outage is shorter than three failing rounds: hysteresis holds the state.
        assertTrue(transitions <= 2, "transitions while flapping: " + transitions + " (longest cut "
                + Duration.ofNanos(longestCut).toMillis() + " ms)\n" + agent.log());
        assertEquals((long) transitions, transitionLines, "each transition is logged exactly once");
        assertTrue(newLines <= 10, newLines + " log lines while flapping:\n" + agent.log());
        double mountOps = SlaveAgent.metric(metrics, "binhost_mount_operations_total") - mountOpsBefore;
        E2e.figure("flapping 60 s: mount/umount operations", mountOps);
        assertTrue(mountOps <= 2, "no mount/unmount storm: " + mountOps + " operations\n" + metrics);
        assertEquals(200, agent.get("/q/health/live").status());
    }

    @Test
    void rss_afterWarmUp_staysFlatOver8000ProbeRoundsAtA10msInterval() throws Exception {
        rig.startMaster();
        // The launcher's flags plus -XX:+AlwaysPreTouch: the JVM commits its whole 64 MiB heap up front but
        // touches pages only as the collector first uses them, so without pre-touch RSS also creeps up while old
        // generation's high-water mark rises towards -Xmx. Pre-touched, RSS growth is the rest of the agent.
        start(watchOnly(Map.of("binhost.master.probe-interval", "10ms")), "-XX:+AlwaysPreTouch");
        String rounds = "binhost_master_probe_duration_seconds_count";
        // Samples at rounds 1000 (reported), 8000 and 16000. The first minutes are JIT warm-up: C1 compiles the
        // probe and health paths as they get hot, and code cache and metaspace grow (measured with NMT on the demo:
        // +8 MiB committed, RSS rising ~1.5 MiB per 1,000 rounds at first, then flat from about round 9000).
        int[] at = {1000, 8000, 16000};
        long[] rss = new long[at.length];
        double[] heap = new double[at.length];
        for (int i = 0; i < at.length; i++) {
            int target = at[i];
            // Monitoring polls readiness meanwhile, as a Prometheus blackbox or supervise-daemon would.
            agent.await(Duration.ofSeconds(240), E2e.quiet(() -> {
                agent.get("/q/health/ready");
                return agent.metric(rounds) >= target;
            }), target + " probe rounds");
            // RSS first: jcmd's attach adds a thread and buffers to the agent's footprint.
            rss[i] = agent.rssKib();
            heap[i] = agent.heapAfterGcBytes();
            E2e.figure("agent after " + target + " probe rounds: RSS (KiB)", rss[i]);
            E2e.figure("agent after " + target + " probe rounds: heap after full GC (KiB)", Math.round(heap[i] / 1024));
        }
        assertTrue(agent.metric(rounds + "{outcome=\"failure\",probe=\"rsync\"}") == 0
                || Double.isNaN(agent.metric(rounds + "{outcome=\"failure\",probe=\"rsync\"}")),
                "every round reached the master");
        // A leak of even 1 KiB per round would add ~8 MiB of live heap over 8,000 rounds.
        double heapGrowth = heap[2] - heap[1];
        assertTrue(heapGrowth < 512 * 1024, "live heap grew by " + Math.round(heapGrowth / 1024)
                + " KiB from round 8000 to 16000: " + Arrays.toString(heap));
        long growth = rss[2] - rss[1];
        E2e.figure("agent RSS growth, rounds 8000-16000 (KiB)", growth);
        // The live heap above is the leak detector; RSS also holds the JIT's code cache and metaspace, which on a
        // loaded machine still grow past round 8000 (seen: +1.5 MiB in a fresh-clone CI run, 0 in others). A leak
        // of 1 KiB per round would add 8 MiB, so half of that is a leak, not warm-up.
        assertTrue(growth < 4096, "RSS grew by " + growth + " KiB from round 8000 to 16000: "
                + Arrays.toString(rss));
        assertEquals(200, agent.get("/q/health/ready").status());
    }
}
