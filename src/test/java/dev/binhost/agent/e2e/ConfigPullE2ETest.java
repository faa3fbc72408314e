package dev.binhost.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.binhost.agent.deploy.MonitoringRulesTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The master's portage config reaching the slave through the built agent: a cold start, the master editing its
 * 01* files, and the link cut in the middle of a pull.
 */
class ConfigPullE2ETest extends E2eTest {

    private Path portage() {
        return rig.root.resolve("slave/etc/portage");
    }

    /** Relative path → content of every regular file under {@code dir} (text and binary alike). */
    static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                // Latin-1 maps every byte to a char: binary files compare byte for byte.
                out.put(dir.relativize(f).toString(), Files.readString(f, StandardCharsets.ISO_8859_1));
            }
        }
        return out;
    }

    /** What the slave's tree must hold after a pull: its own files plus the master's 01* files and env/. */
    static Map<String, String> expectedAfterPull(Map<String, String> master, Map<String, String> slave) {
        Map<String, String> out = new TreeMap<>(slave);
        master.forEach((path, content) -> {
            String name = path.substring(path.lastIndexOf('/') + 1);
            boolean managedDir = path.startsWith("make.conf/") || path.startsWith("package.");
            if (name.endsWith("~")) {
                return;
            }
            if (path.startsWith("env/") || managedDir && name.startsWith("01")) {
                out.put(path, content);
            }
        });
        return out;
    }

    @Test
    void coldStart_withMasterUp_readyWithinSeconds_configPulledMountUp_andATriggeredRunCompletes() throws Exception {
        Map<String, String> config = SlaveAgent.slaveConfig(rig, SlaveE2ETest.PRETEND, SlaveE2ETest.MERGE, "0");
        rig.startMaster();
        long t0 = System.nanoTime();
        start(config);
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness after a cold start");
        Duration toReady = Duration.ofNanos(System.nanoTime() - t0);
        E2e.figure("cold start: agent process start to ready (master, mount, config)", toReady);
        // Typically under 2 s (JVM start included); printed as a figure, not asserted (a shared machine is noisy).

        assertEquals(expectedAfterPull(MasterTree.files(), MasterTree.slaveFiles()), snapshot(portage()),
                "the master's 01* files, env/ and the slave's own 02* files; no backups, no master 02*");
        SlaveAgent.Answer ready = agent.get("/q/health/ready");
        for (String check : new String[] {"master", "mounts", "config-fresh"}) {
            assertEquals("UP", ready.check(check).path("status").asText(), ready.body());
        }
        assertTrue(agent.history().isEmpty(), "no run before the trigger");
        SlaveAgent.CliResult trigger = agent.cli(false, "trigger");
        assertEquals(0, trigger.exit(), trigger.output());
        JsonNode run = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (run == null && System.nanoTime() < deadline) {
            run = agent.history().stream().filter(r -> "success".equals(r.path("outcome").asText())).findFirst()
                    .orElse(null);
            Thread.sleep(200);
        }
        assertTrue(run != null, "the triggered run completed:\n" + agent.log());
        assertEquals("trigger", run.path("reason").asText(), run.toString());
        assertEquals(7, run.path("installedBinary").asInt(), run.toString());
        assertEquals(3, run.path("installedCompiled").asInt(), run.toString());
        // The history line is written just before the run's counters move.
        agent.await(Duration.ofSeconds(5), E2e.quiet(() -> agent.metric("binhost_update_runs_total{outcome=\"success\"}")
                == 1.0), "the run counted");
        String metrics = agent.get("/q/metrics").body();
        assertTrue(SlaveAgent.metric(metrics, "binhost_sync_pulls_total{outcome=\"applied\"}") >= 1, metrics);
        assertEquals(1.0, SlaveAgent.metric(metrics, "binhost_mount_up{mount=\"packages\"}"), metrics);
        assertEquals(1.0, SlaveAgent.metric(metrics, "binhost_update_runs_total{outcome=\"success\"}"), metrics);
        // Every series the shipped alert rules and dashboard query exists in the agent's real exposition: a
        // renamed metric would otherwise silence an alert without any test noticing.
        for (String name : MonitoringRulesTest.monitoredSeries()) {
            assertTrue(Pattern.compile("(?m)^" + Pattern.quote(name) + "[{ ]").matcher(metrics).find(),
                    name + " is used by deploy/monitoring but the agent does not export it:\n" + metrics);
        }
    }

    @Test
    void masterDeletesOne01FileAndChangesAnother_slaveFollows_and02FilesAreUntouched() throws Exception {
        Map<String, String> config = SlaveAgent.baseConfig(rig);
        MasterTree.writeSlave(portage());
        // A scheduled pull every second; the sync's tick (10 s) is then the pace.
        config.put("binhost.sync.interval", "1s");
        config.put("binhost.sync.jitter", "0s");
        rig.startMaster();
        start(config);
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness");
        Map<String, String> master = new TreeMap<>(MasterTree.files());
        assertEquals(expectedAfterPull(master, MasterTree.slaveFiles()), snapshot(portage()));

        Files.delete(rig.masterPortage.resolve("package.use/01python"));
        master.remove("package.use/01python");
        String changed = master.get("make.conf/01master").replace("VIDEO_CARDS=\"radeon r600\"",
                "VIDEO_CARDS=\"amdgpu radeonsi\"");
        Files.writeString(rig.masterPortage.resolve("make.conf/01master"), changed);
        master.put("make.conf/01master", changed);
        Map<String, String> expected = expectedAfterPull(master, MasterTree.slaveFiles());
        agent.await(Duration.ofSeconds(25), E2e.quiet(() -> snapshot(portage()).equals(expected)),
                "the slave to follow the master's change");

        Map<String, String> now = snapshot(portage());
        assertFalse(now.containsKey("package.use/01python"), now.keySet().toString());
        assertTrue(now.get("make.conf/01master").contains("amdgpu"));
        MasterTree.slaveFiles().forEach((path, content) -> assertEquals(content, now.get(path), path));
        String metrics = agent.get("/q/metrics").body();
        assertTrue(SlaveAgent.metric(metrics, "binhost_sync_files_total{change=\"removed\"}") >= 1, metrics);
        assertTrue(SlaveAgent.metric(metrics, "binhost_sync_files_total{change=\"changed\"}") >= 1, metrics);

        // The admin rolls back with the installed CLI: nobody may not; root gets the previous set, held there
        // (the next scheduled pulls leave it alone) until pull-config.
        SlaveAgent.CliResult denied = agent.cli(true, "rollback-config");
        assertEquals(4, denied.exit(), denied.output());
        SlaveAgent.CliResult back = agent.cli(false, "rollback-config");
        assertEquals(0, back.exit(), back.output());
        assertTrue(back.output().contains("package.use/01python"), back.output());
        Map<String, String> rolledBack = snapshot(portage());
        assertTrue(rolledBack.get("make.conf/01master").contains("radeon r600"), rolledBack.toString());
        assertTrue(rolledBack.containsKey("package.use/01python"));
        double pullsBefore = SlaveAgent.metric(agent.get("/q/metrics").body(), "binhost_sync_pulls_total");
        Thread.sleep(12_000);
        assertEquals(rolledBack, snapshot(portage()), "a scheduled pull must not undo the rollback");
        assertEquals(pullsBefore, SlaveAgent.metric(agent.get("/q/metrics").body(), "binhost_sync_pulls_total"));
        assertEquals(1.0, SlaveAgent.metric(agent.get("/q/metrics").body(), "binhost_sync_held"));
        assertEquals(200, agent.get("/q/health/ready").status(), "held is a choice, not a fault");

        SlaveAgent.CliResult pulled = agent.cli(false, "pull-config");
        assertEquals(0, pulled.exit(), pulled.output());
        assertTrue(pulled.output().contains("config pull applied"), pulled.output());
        assertEquals(expected, snapshot(portage()));
        assertEquals(0.0, SlaveAgent.metric(agent.get("/q/metrics").body(), "binhost_sync_held"));
    }

    @Test
    void linkCutMidPull_leavesPortageUnchanged_readyDownWithinTheBound_andThePullCompletesWhenRestored()
            throws Exception {
        // 3 MiB of env/ files the master adds, sent at 1 Mbit/s: a pull of about 25 s, cut after 2 s.
        Random random = new Random(7);
        for (int i = 1; i <= 3; i++) {
            byte[] bytes = new byte[1 << 20];
            random.nextBytes(bytes);
            Files.write(rig.masterPortage.resolve("env/big-" + i + ".bin"), bytes);
        }
        Map<String, String> config = SlaveAgent.baseConfig(rig);
        // A queue of throttled data may delay a probe's answer; these timeouts tolerate it.
        config.put("binhost.master.connect-timeout", "1s");
        config.put("binhost.master.read-timeout", "1s");
        MasterTree.writeSlave(portage());
        Map<String, String> before = snapshot(portage());
        rig.throttle("1mbit");
        start(config);
        // The first scheduled pull fails at once (no daemon yet); then the master comes UP and the agent pulls
        // at once. Let that pull get going, then cut the cable.
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> agent.get("/q/health/started").status() == 200),
                "the first pull attempt");
        double pullsBefore = agent.metric("binhost_sync_pulls_total");
        rig.startMaster();
        agent.await(Duration.ofSeconds(10), E2e.quiet(() -> agent.metric("binhost_master_up") == 1.0),
                "the master to come UP");
        Thread.sleep(2000);
        assertEquals(pullsBefore, agent.metric("binhost_sync_pulls_total"), "the pull is still transferring");
        // Readiness is DOWN already (no config pulled yet): what the cut changes is the master check.
        assertEquals("UP", agent.get("/q/health/ready").check("master").path("status").asText());
        rig.linkDown();
        long t0 = System.nanoTime();
        agent.await(Duration.ofSeconds(20), E2e.quiet(() -> "DOWN".equals(
                agent.get("/q/health/ready").check("master").path("status").asText())),
                "the master check DOWN after the link cut");
        Duration toNotReady = Duration.ofNanos(System.nanoTime() - t0);
        E2e.figure("time to not-ready after link cut mid-pull", toNotReady);
        Duration bound = Duration.ofMillis(2 * (500 + 0 + 1000 + 1000) + 1000 + 250);
        assertTrue(toNotReady.compareTo(bound) <= 0, "not ready after " + toNotReady + ", bound " + bound);
        agent.await(Duration.ofSeconds(15), E2e.quiet(() -> agent.metric("binhost_sync_pulls_total") > pullsBefore),
                "the cut pull to end by its deadline");
        assertEquals(before, snapshot(portage()), "the live tree is untouched by the cut pull");
        String metrics = agent.get("/q/metrics").body();
        assertEquals(0.0, SlaveAgent.metric(metrics, "binhost_sync_pulls_total{outcome=\"applied\"}"), metrics);
        assertEquals(200, agent.get("/q/health/live").status());

        rig.unthrottle();
        rig.linkUp();
        Map<String, String> expected = expectedAfterPull(snapshot(rig.masterPortage), before);
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200
                && snapshot(portage()).equals(expected)), "the pull to complete after the link returned");
        assertTrue(agent.metric("binhost_sync_pulls_total{outcome=\"applied\"}") >= 1);
    }
}
