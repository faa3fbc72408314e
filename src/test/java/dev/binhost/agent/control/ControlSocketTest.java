package dev.binhost.agent.control;

import dev.binhost.agent.cli.Cli;
import dev.binhost.agent.cli.CliConfig;
import dev.binhost.agent.emerge.UpdateService;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The running agent's control socket and status endpoint, with the real update runs behind trigger. */
@QuarkusTest
class ControlSocketTest {
    @Inject
    UpdateService updates;

    @ConfigProperty(name = "binhost.control.socket")
    Path socket;

    @ConfigProperty(name = "quarkus.http.port")
    int httpPort;

    @Test
    void status_overTheSocket_hasTheAgentAndEveryContributorsSection() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        ControlProtocol.Response r = new ControlClient(socket, Duration.ofSeconds(10)).call("status");

        assertTrue(r.ok());
        @SuppressWarnings("unchecked")
        Map<String, Object> agent = (Map<String, Object>) r.status().get("agent");
        assertEquals(ProcessHandle.current().pid(), ((Number) agent.get("pid")).longValue());
        @SuppressWarnings("unchecked")
        Map<String, Object> master = (Map<String, Object>) r.status().get("master");
        assertEquals("127.0.0.1", master.get("host"), "the master watch's StatusContributor is included");
    }

    @Test
    void status_overHttp_isTheSameReportReadOnly() {
        given().get("/status").then().statusCode(200)
                .body("agent.uptimeSeconds", greaterThanOrEqualTo(0))
                .body("master.host", equalTo("127.0.0.1"))
                .body("agent.version", notNullValue());
        given().post("/status").then().statusCode(405);
    }

    @Test
    void cliTrigger_againstTheRunningAgentWithItsMasterDown_refusedAtOnceSayingWhy_exitOne() throws Exception {
        // queued and already-queued answers over the socket are in ControlE2ETest, where the master is UP
        CliConfig config = CliConfig.of(Map.of("binhost.control.socket", socket.toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Cli cli = new Cli(config, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        Object before = updates.status().get("last");

        assertEquals(Cli.FINDINGS, cli.run("trigger"));

        String said = err.toString(StandardCharsets.UTF_8);
        assertTrue(said.startsWith("update run refused: not queued: a run now would be blocked by "), said);
        assertTrue(said.contains("master-up (master 127.0.0.1 is DOWN"), said);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        assertEquals(before, updates.status().get("last"), "nothing ran");
        assertEquals("idle", updates.status().get("state"));
    }

    @Test
    void cliPullConfig_againstTheRunningAgent_runsTheRealPullAndReportsItsFailure() {
        CliConfig config = CliConfig.of(Map.of("binhost.control.socket", socket.toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Cli cli = new Cli(config, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        // The test profile's master (port 1) never answers, so the agent's real pull fails and says why.
        assertEquals(Cli.FINDINGS, cli.run("pull-config"));

        String said = err.toString(StandardCharsets.UTF_8);
        assertTrue(said.startsWith("config pull failed: rsync from rsync://127.0.0.1:1/"), said);
        assertTrue(said.contains("live tree untouched"), said);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void cliStatus_againstTheRunningAgent_printsSectionsOrJson() throws Exception {
        CliConfig config = CliConfig.of(Map.of("binhost.control.socket", socket.toString(),
                "quarkus.http.port", Integer.toString(httpPort)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Cli cli = new Cli(config, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);

        assertEquals(Cli.OK, cli.run("status"));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("binhost-agent "), text);
        // The test's master (port 1) is DOWN: a problem, so its line comes first, marked.
        assertTrue(java.util.regex.Pattern.compile("\n! master +DOWN for ").matcher(text).find()
                && text.contains("(127.0.0.1, probed "), text);
        // before any run, the follow-up area says so and is no problem
        assertTrue(java.util.regex.Pattern.compile("\n {2}follow-up +nothing collected yet").matcher(text).find(), text);

        out.reset();
        assertEquals(Cli.OK, cli.run("status", "--json"));
        assertEquals("127.0.0.1", ControlProtocol.mapper().readTree(out.toByteArray()).at("/master/host").asText());
    }
}
