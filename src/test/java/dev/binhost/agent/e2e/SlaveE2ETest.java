package dev.binhost.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.binhost.agent.control.ControlClient;
import dev.binhost.agent.control.ControlProtocol;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole slave: the built agent mounts the master's PKGDIR export (bindfs standing in for NFS) in its own mount
 * namespace when the master is UP, and runs updates with the stand-in emerge replaying real output. Faults: the
 * master away at start, the export frozen like a dead NFS server, the agent SIGKILLed mid-run.
 */
class SlaveE2ETest extends E2eTest {
    /** The mixed slave's real outputs: 7 packages from the master as binaries, 3 compiled here. */
    static final String PRETEND = "030-slave-mixed-pretend-verbose.color.rc0.txt";
    static final String MERGE = "035-slave-mixed-merge.color.rc0.txt";

    private Path target() {
        return rig.root.resolve("slave/var/cache/binpkgs");
    }

    private boolean mounted() throws IOException {
        return agent.mountinfo().lines().anyMatch(l -> l.contains(" " + target() + " ")
                && l.contains(" - fuse " + rig.masterPkgdir + " "));
    }

    private JsonNode awaitRun(String reason, String outcome, Duration timeout) throws Exception {
        JsonNode[] found = new JsonNode[1];
        agent.await(timeout, E2e.quiet(() -> {
            for (JsonNode r : agent.history()) {
                if (reason.equals(r.path("reason").asText()) && outcome.equals(r.path("outcome").asText())) {
                    found[0] = r;
                    return true;
                }
            }
            return false;
        }), "a " + reason + " run ending " + outcome + " in the history");
        return found[0];
    }

    private static void assertMixedCounts(JsonNode run) {
        assertEquals(7, run.path("installedBinary").asInt(), run.toString());
        assertEquals(3, run.path("installedCompiled").asInt(), run.toString());
        assertEquals(7, run.path("plan").path("binaries").asInt(), run.toString());
        assertEquals(3, run.path("plan").path("compiled").asInt(), run.toString());
    }

    @Test
    void masterDownAtStart_liveNotReadyWithReasons_thenMasterUp_mountsAndCatchesUpTheMissedRun() throws Exception {
        Map<String, String> config = SlaveAgent.slaveConfig(rig, PRETEND, MERGE, "0");
        SlaveAgent.lastRunYesterday(config);
        start(config);
        // Started: the first probe round and the first (scheduled, failing) config pull are done.
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> agent.get("/q/health/started").status() == 200),
                "the first probe round and pull attempt");

        SlaveAgent.Answer ready = agent.get("/q/health/ready");
        assertEquals(503, ready.status(), ready.body());
        assertTrue(SlaveAgent.data(ready.check("master"), "reason").contains("connection refused"), ready.body());
        assertEquals("DOWN", ready.check("mounts").path("status").asText(), ready.body());
        // rsync says "Connection refused (111)"
        assertTrue(SlaveAgent.data(ready.check("config-fresh"), "reason").toLowerCase().contains("connection refused"),
                ready.body());
        assertEquals(200, agent.get("/q/health/live").status());
        assertTrue(!mounted(), "nothing mounted while the master is down:\n" + agent.mountinfo());
        assertTrue(agent.history().isEmpty(), "a blocked catch-up is not written to the history");

        rig.startMaster();
        long t0 = System.nanoTime();
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness (master and mount) after the master came up");
        E2e.figure("time to ready (master UP and export mounted) after master up",
                Duration.ofNanos(System.nanoTime() - t0));
        assertTrue(mounted(), agent.mountinfo());
        assertTrue(Files.exists(agent.seen(target().resolve("Packages"))),
                "the master's Packages index is visible through the slave's mount");

        // The update schedule ticks every 15 s; the owed run goes through on the first tick with the master UP.
        JsonNode run = awaitRun("catch-up", "success", Duration.ofSeconds(40));
        assertMixedCounts(run);
        // The history line is written just before the run's counters move.
        agent.await(Duration.ofSeconds(5), E2e.quiet(() -> agent.metric("binhost_update_runs_total{outcome=\"success\"}")
                == 1.0), "the run counted");
        String metrics = agent.get("/q/metrics").body();
        assertEquals(1.0, SlaveAgent.metric(metrics, "binhost_update_runs_total{outcome=\"success\"}"), metrics);
        assertEquals(7.0, SlaveAgent.metric(metrics, "binhost_update_packages_total{kind=\"binary\"}"), metrics);
        assertEquals(3.0, SlaveAgent.metric(metrics, "binhost_update_packages_total{kind=\"compiled\"}"), metrics);
        assertEquals(1.0, SlaveAgent.metric(metrics, "binhost_mount_up{mount=\"packages\"}"), metrics);
        List<String> calls = Files.readAllLines(SlaveAgent.emergeCalls(rig));
        assertEquals(2, calls.size(), "one plan, one merge: " + calls);
        assertTrue(calls.get(0).contains("--pretend") && !calls.get(1).contains("--pretend"), calls.toString());
    }

    @Test
    void exportFreezes_duringEmergeAndIdle_liveStaysUp_readyGoesDown_andRecoversAfterThaw() throws Exception {
        Map<String, String> config = SlaveAgent.slaveConfig(rig, PRETEND, MERGE, "0.05");
        SlaveAgent.lastRunYesterday(config);
        rig.startMaster();
        start(config);
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness with the master up");

        // During emerge: wait for the merge call, then freeze the export like a dead NFS server.
        agent.await(Duration.ofSeconds(40), E2e.quiet(() -> Files.exists(SlaveAgent.emergeCalls(rig))
                && Files.readAllLines(SlaveAgent.emergeCalls(rig)).size() == 2), "the merge to start");
        long server = rig.exportServer();
        Rig.signal(server, "STOP");
        long t0 = System.nanoTime();
        agent.await(Duration.ofSeconds(10), E2e.quiet(() -> agent.get("/q/health/ready").status() == 503),
                "readiness DOWN with the export frozen during emerge");
        E2e.figure("time to not-ready after export freeze (during emerge)", Duration.ofNanos(System.nanoTime() - t0));
        SlaveAgent.Answer ready = agent.get("/q/health/ready");
        assertEquals("DOWN", ready.check("mounts").path("status").asText(), ready.body());
        assertEquals("UP", ready.check("master").path("status").asText(), "the master itself still answers");
        for (int i = 0; i < 5; i++) {
            assertEquals(200, agent.get("/q/health/live").status(), "no agent loop blocks on the frozen export");
            Thread.sleep(500);
        }
        assertTrue(mounted(), "never unmounted from under a running emerge:\n" + agent.mountinfo());
        Rig.signal(server, "CONT");
        // The stale mount is released only once emerge has finished, then mounted afresh.
        assertMixedCounts(awaitRun("catch-up", "success", Duration.ofSeconds(60)));
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness after the export thawed and the run ended");
        assertTrue(agent.lines("Release of packages .* deferred") <= 1,
                "the deferred release is logged once, not every round:\n" + agent.log());

        // Idle: freeze again with no emerge running. The stale mount is released lazily at once and, the master
        // still answering, mounted afresh after retry-interval; bindfs being per mount, the fresh mount works
        // while the old server is still frozen (a dead NFS server would keep failing until it returns).
        long frozen = rig.exportServer();
        Rig.signal(frozen, "STOP");
        t0 = System.nanoTime();
        agent.await(Duration.ofSeconds(10), E2e.quiet(() -> agent.get("/q/health/ready").status() == 503),
                "readiness DOWN with the export frozen while idle");
        E2e.figure("time to not-ready after export freeze (idle)", Duration.ofNanos(System.nanoTime() - t0));
        assertEquals(200, agent.get("/q/health/live").status());
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200 && mounted()),
                "readiness back through a fresh mount");
        E2e.figure("idle freeze: back to ready through a fresh mount after", Duration.ofNanos(System.nanoTime() - t0));
        assertEquals(200, agent.get("/q/health/live").status(), "no loop blocked on the frozen server");
        assertEquals(2, rig.processesNaming("bindfs").size(), "the frozen server and the fresh one");
        Rig.signal(frozen, "CONT");
        // Thawed, the old server finds its mount detached and exits: nothing leaks.
        agent.await(Duration.ofSeconds(10), () -> rig.processesNaming("bindfs").size() == 1,
                "the thawed, lazily released server to exit");
        assertEquals(200, agent.get("/q/health/ready").status());
        assertTrue(agent.metric("binhost_mount_operations_total") <= 12,
                "a few mount/release operations, no storm: " + agent.get("/q/metrics").body());
    }

    @Test
    void agentSigkilledDuringARun_restart_keepsHistory_recordsTheInterruptedRun_andResumesIt() throws Exception {
        Map<String, String> config = SlaveAgent.slaveConfig(rig, PRETEND, MERGE, "0.05");
        config.put("binhost.update.resume-interrupted", "true");
        SlaveAgent.lastRunYesterday(config);
        rig.startMaster();
        start(config);
        // A first run completes (the owed catch-up), so there is history to keep; then a triggered one is killed.
        JsonNode earlier = awaitRun("catch-up", "success", Duration.ofSeconds(40));
        Path historyFile = Path.of(config.get("binhost.agent.state-dir")).resolve("history.jsonl");
        String before = Files.readString(historyFile);
        trigger();
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> Files.readAllLines(SlaveAgent.emergeCalls(rig)).size() == 4),
                "the triggered run's merge to start");
        Thread.sleep(500);
        agent.kill();
        // The emerge runs in a session of its own and outlives the agent, as on a real slave; let it finish.
        assertTrue(!rig.processesNaming("emerge-standin").isEmpty(), "emerge survives the agent's SIGKILL");
        for (int i = 0; i < 300 && !rig.processesNaming("emerge-standin").isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertTrue(rig.processesNaming("emerge-standin").isEmpty(), "the orphaned emerge finished");

        agent = null;
        start(config);
        JsonNode interrupted = awaitRun("trigger", "interrupted", Duration.ofSeconds(20));
        assertTrue(interrupted.path("message").asText().contains("the agent stopped during the apply phase"),
                interrupted.toString());
        JsonNode resumed = awaitRun("resume", "success", Duration.ofSeconds(60));
        assertTrue(Files.readString(historyFile).startsWith(before), "earlier history intact");
        assertEquals(earlier, agent.history().get(0));
        assertEquals(List.of("success", "interrupted", "success"),
                agent.history().stream().map(r -> r.path("outcome").asText()).toList());
        List<String> calls = Files.readAllLines(SlaveAgent.emergeCalls(rig));
        assertTrue(calls.get(calls.size() - 1).contains("--resume"), calls.toString());
        assertEquals("success", resumed.path("outcome").asText());
        assertEquals(1.0, agent.metric("binhost_update_runs_total{outcome=\"interrupted\"}"));
    }

    /**
     * Triggers a run. The history line of the run before is written before that run has wound down, so a trigger
     * right after it may still find it running; only QUEUED or ALREADY_RUNNING are acceptable answers here.
     */
    private void trigger() throws Exception {
        ControlClient client = new ControlClient(Path.of(agent.configValue("binhost.control.socket")),
                Duration.ofSeconds(5));
        ControlProtocol.Response[] last = new ControlProtocol.Response[1];
        agent.await(Duration.ofSeconds(10), E2e.quiet(() -> {
            last[0] = client.call(ControlProtocol.TRIGGER);
            assertTrue(List.of("QUEUED", "ALREADY_RUNNING").contains(last[0].result()), last[0].toString());
            return "QUEUED".equals(last[0].result());
        }), "the trigger to be queued once the previous run has ended");
    }

    @Test
    void stateDirFull_runIsReportedAsError_earlierHistoryIntact_andRecordingResumesWhenSpaceReturns()
            throws Exception {
        Map<String, String> config = SlaveAgent.slaveConfig(rig, PRETEND, MERGE, "0");
        Path state = Path.of(config.get("binhost.agent.state-dir"));
        rig.startMaster();
        // A tiny tmpfs on the state directory, in the agent's own mount namespace only.
        agent = SlaveAgent.start(rig, config, E2e.INSTALLED_JVM_OPTIONS,
                "mount -t tmpfs -o size=256k,mode=0750 binhost-e2e-state " + state);
        agent.awaitHttp(Duration.ofSeconds(60));
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness");
        assertTrue(agent.mountinfo().contains(" " + state + " ") && agent.mountinfo().contains("binhost-e2e-state"),
                "the state directory is the tiny tmpfs");
        trigger();
        JsonNode first = awaitRun("trigger", "success", Duration.ofSeconds(30));
        Path history = agent.seen(state.resolve("history.jsonl"));
        String before = Files.readString(history);

        // Fill the file system, as a runaway log or a full /var would.
        Path filler = agent.seen(state.resolve("filler"));
        try (var out = Files.newOutputStream(filler)) {
            byte[] block = new byte[4096];
            for (int i = 0; i < 1024; i++) {
                out.write(block);
                out.flush();
            }
            throw new AssertionError("256 KiB tmpfs took 4 MiB");
        } catch (IOException full) {
            assertTrue(String.valueOf(full.getMessage()).contains("No space left"), full.toString());
        }
        // The share's probes go on while the agent's own disk is full; none may take that for a stale share
        // (the probe's output file lives in the state dir).
        double probes = agent.metric("binhost_mount_probe_duration_seconds_count");
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.metric("binhost_mount_probe_duration_seconds_count")
                >= probes + 2), "two mount probes on the full disk");
        assertTrue(Double.isNaN(agent.metric(
                "binhost_mount_probe_duration_seconds_count{mount=\"packages\",outcome=\"error\"}")),
                "no probe failed on the full disk:\n" + agent.log());
        assertEquals(200, agent.get("/q/health/ready").status(), "the mount is healthy, so is readiness");
        trigger();
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.metric("binhost_update_runs_total{outcome=\"error\"}")
                >= 1), "the run on a full disk to end as an error");
        assertTrue(agent.lines("No space left on device") >= 1, "the agent says why:\n" + agent.log());
        String after = Files.readString(history);
        assertTrue(after.startsWith(before), "earlier history intact");
        // The file's last page had room for part of the line: what got in was taken back.
        assertEquals(before, after, "no part of the unrecorded run's line stays behind");
        assertEquals(first, agent.history().get(0));
        assertEquals(200, agent.get("/q/health/live").status());

        Files.delete(filler);
        trigger();
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.history().stream()
                .filter(r -> "success".equals(r.path("outcome").asText())).count() == 2), "a run recorded again");
        assertEquals(first, agent.history().get(0), "the first record survived the full disk");
    }
}
