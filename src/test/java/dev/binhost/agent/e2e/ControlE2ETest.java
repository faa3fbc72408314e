package dev.binhost.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.binhost.agent.control.ControlClient;
import dev.binhost.agent.control.ControlProtocol;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The control socket of the built agent under a storm of triggers, from root and from an unprivileged user. */
class ControlE2ETest extends E2eTest {

    @Test
    void secondAgentOnTheSameStateDir_exits75NamingTheFirstsPid_andTheFirstGoesOn() throws Exception {
        Map<String, String> config = SlaveAgent.slaveConfig(rig, SlaveE2ETest.PRETEND, SlaveE2ETest.MERGE, "0");
        rig.startMaster();
        start(config);
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness");
        Path configFile = rig.root.resolve("slave/etc/binhost-agent/binhost-agent.properties");

        // The same configuration file, another HTTP port: only the state directory is shared.
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", rig.slaveNs, AgentJar.java()));
        argv.addAll(E2e.INSTALLED_JVM_OPTIONS);
        argv.addAll(List.of("-Dquarkus.http.port=" + (SlaveAgent.HTTP_PORT + 1), "-jar",
                AgentJar.ensureBuilt().toString()));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("BINHOST_AGENT_CONFIG", configFile.toString());
        Process second = pb.start();
        String out = new String(second.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(second.waitFor(60, TimeUnit.SECONDS), "the second agent exits by itself");

        assertEquals(75, second.exitValue(), out);
        assertTrue(out.contains("another binhost-agent (pid ") && out.contains("already runs on the state directory"),
                out);
        assertTrue(out.contains(config.get("binhost.agent.state-dir")), out);
        assertTrue(agent.alive(), "the first agent goes on");
        assertEquals(200, agent.get("/q/health/ready").status());
        SlaveAgent.CliResult status = agent.cli(false, "status");
        assertTrue(status.exit() != 3 && status.output().contains("master"), "the CLI is not affected by the lock: " + status);
    }

    @Test
    void twoHundredTriggersInOneSecond_giveOneRun_andTheUnprivilegedOnesAreRefused() throws Exception {
        Map<String, String> config = SlaveAgent.slaveConfig(rig, SlaveE2ETest.PRETEND, SlaveE2ETest.MERGE, "0.01");
        // Users may connect (to read status); only root may act: the agent checks the caller's uid itself.
        config.put("binhost.control.socket-mode", "0666");
        rig.startMaster();
        start(config);
        agent.await(Duration.ofSeconds(30), E2e.quiet(() -> agent.get("/q/health/ready").status() == 200),
                "readiness");
        Path socket = Path.of(config.get("binhost.control.socket"));

        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<SlaveAgent.CliResult>> unprivileged = new ArrayList<>();
        try {
            // Two unprivileged CLI calls (each a JVM of its own) go off alongside the burst.
            for (int i = 0; i < 2; i++) {
                unprivileged.add(pool.submit(() -> agent.cli(true, "trigger")));
            }
            long t0 = System.nanoTime();
            List<Future<String>> burst = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                burst.add(pool.submit(() -> {
                    ControlProtocol.Response r = new ControlClient(socket, Duration.ofSeconds(5))
                            .call(ControlProtocol.TRIGGER);
                    return r.ok() ? r.result() : "error:" + r.error();
                }));
            }
            Map<String, Integer> results = new TreeMap<>();
            for (Future<String> f : burst) {
                results.merge(f.get(), 1, Integer::sum);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            E2e.figure("200 triggers over the control socket", took);
            assertEquals(1, results.getOrDefault("QUEUED", 0), "exactly one trigger queues a run: " + results);
            assertEquals(199, results.getOrDefault("ALREADY_QUEUED", 0) + results.getOrDefault("ALREADY_RUNNING", 0),
                    "the rest coalesce: " + results);
            for (Future<SlaveAgent.CliResult> f : unprivileged) {
                SlaveAgent.CliResult r = f.get();
                assertTrue(r.exit() != 0, "an unprivileged trigger fails: " + r);
                assertTrue(r.output().contains("trigger needs root"), r.output());
            }
        } finally {
            pool.shutdownNow();
        }

        JsonNode[] run = new JsonNode[1];
        agent.await(Duration.ofSeconds(40), E2e.quiet(() -> {
            run[0] = agent.history().stream().filter(r -> "trigger".equals(r.path("reason").asText()))
                    .findFirst().orElse(null);
            return run[0] != null;
        }), "the triggered run to end");
        assertEquals("success", run[0].path("outcome").asText(), run[0].toString());
        assertEquals(7, run[0].path("installedBinary").asInt());
        assertEquals(3, run[0].path("installedCompiled").asInt());
        Thread.sleep(2000);
        assertEquals(1, agent.history().size(), "one run, not one per trigger: " + agent.history());
        assertEquals(2, Files.readAllLines(SlaveAgent.emergeCalls(rig)).size(), "one plan and one merge");
        assertEquals(1.0, agent.metric("binhost_update_runs_total"), "runs counted");
        assertEquals(2, agent.lines("refused trigger from user nobody"), agent.log());
    }
}
