package dev.binhost.agent.cli;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.control.ControlConfig;
import io.smallrye.config.WithDefault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI resolves the agent's keys as the agent does: its mappings' defaults, profiles, env, -D. */
class CliConfigTest {
    @AfterEach
    void clearOverrides() {
        System.clearProperty("binhost.control.socket");
        System.clearProperty("quarkus.profile");
    }

    @Test
    void defaults_areTheAgentMappingsOwn() throws Exception {
        CliConfig config = CliConfig.of(java.util.Map.of());
        assertEquals(ControlConfig.class.getMethod("socket").getAnnotation(WithDefault.class).value(),
                config.get("binhost.control.socket"));
        assertEquals(AgentConfig.class.getMethod("stateDir").getAnnotation(WithDefault.class).value(),
                config.get("binhost.agent.state-dir"));
        assertEquals("9873", config.get("quarkus.http.port"), "application.properties' port, as the agent's");
    }

    @Test
    void systemProperty_overrides_andTheDemoProfileGivesTheDemosSocket() throws Exception {
        System.setProperty("binhost.control.socket", "/tmp/elsewhere.sock");
        assertEquals("/tmp/elsewhere.sock", CliConfig.load().get("binhost.control.socket"));
        System.clearProperty("binhost.control.socket");

        System.setProperty("quarkus.profile", "demo");
        assertEquals(Path.of(System.getProperty("user.dir"), "target/demo/control.sock").toString(),
                CliConfig.load().get("binhost.control.socket"));
    }

    @Test
    void environmentVariable_overrides_asForTheAgent() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), PrintSocket.class.getName()))
                .redirectErrorStream(true);
        pb.environment().put("BINHOST_CONTROL_SOCKET", "/tmp/from-env.sock");
        pb.environment().remove("BINHOST_AGENT_CONFIG");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("/tmp/from-env.sock", out.lines().reduce((a, b) -> b).orElse(""), out);
    }

    /** Prints the socket the CLI would use, in a JVM with the environment the test gave it. */
    public static final class PrintSocket {
        public static void main(String[] args) throws Exception {
            System.out.println(CliConfig.load().get("binhost.control.socket"));
        }
    }
}
