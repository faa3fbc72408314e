package dev.binhost.agent.deploy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenRC script for real: Debian's OpenRC runs deploy/openrc/binhost-agent in a private mount namespace
 * (own /run, own /etc/init.d) against the packaged agent installed by deploy/install.sh into a temp root.
 * The master is a closed loopback port: the agent must start, answer and stop without one.
 */
class OpenRcServiceIT {
    static final Path STEPS = Sh.REPO.resolve("src/test/resources/openrc/service-steps.sh");
    static final Pattern STEP = Pattern.compile("(?s)(.*?)### STEP ([a-z-]+) rc=(\\d+)\\n");

    record Step(int rc, String output) {
    }

    @Test
    void service_startStatusTriggerStop_andTriggerWhenStopped(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Sh.onPath("unshare") && Sh.onPath("setpriv") && PreflightRoot.isRoot(),
                "needs root, unshare(1) and setpriv(1)");
        String openrcRoot = openrcRoot();
        Path app = Sh.REPO.resolve("target/quarkus-app");
        assertTrue(Files.exists(app.resolve("quarkus-run.jar")), "package the agent first (mvn verify)");

        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = tmp.resolve("root");
        Sh.Result installed = Sh.run(List.of("deploy/install.sh", "--destdir", root.toString(), "--init", "openrc",
                "--app", app.toString()), Map.of(), 120);
        assertEquals(0, installed.exit(), installed.all());
        int port = freePort();
        Path config = Files.writeString(tmp.resolve("agent.properties"), String.join("\n",
                "binhost.master.host=127.0.0.1",
                "binhost.master.rsync-port=" + freePort(),
                "binhost.master.nfs-check=none",
                "binhost.agent.state-dir=" + tmp.resolve("state"),
                "binhost.agent.log-dir=" + tmp.resolve("log"),
                // A /proc of its own (empty): an emerge elsewhere on the machine is not this test's.
                "binhost.agent.proc-dir=" + Files.createDirectories(tmp.resolve("proc")),
                "quarkus.http.port=" + port, ""));
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));

        Sh.Result r = Sh.run(List.of("unshare", "-m", "--propagation", "private", "bash", STEPS.toString()),
                Map.of("WORK", tmp.toString(), "AGENT_ROOT", root.toString(), "AGENT_CONFIG", config.toString(),
                        "HEALTH_URL", "http://127.0.0.1:" + port + "/q/health/live", "OPENRC_ROOT", openrcRoot),
                300);
        Map<String, Step> steps = steps(r.out() + r.err());
        String log = Files.exists(tmp.resolve("log/agent.log")) ? Files.readString(tmp.resolve("log/agent.log")) : "";
        String all = r.all() + "\n--- agent log ---\n" + log;

        assertStep(steps, "start", 0, "Starting binhost-agent", all);
        assertStep(steps, "status", 0, "status: started", all);
        assertStep(steps, "socket", 0, "600 root socket", all);
        assertStep(steps, "healthcheck", 0, "", all);
        assertStep(steps, "cli-status", 0, "\"host\" : \"127.0.0.1\"", all);
        Step trigger = steps.get("trigger");
        assertTrue(trigger.output().contains("Asking binhost-agent for an update run"), all);
        assertTrue(trigger.output().matches("(?s).*(update run queued|already (queued|running)|update run refused).*"),
                "the agent answered the trigger: " + all);
        assertEquals(trigger.output().contains("refused") ? 1 : 0, trigger.rc(), all);
        assertStep(steps, "trigger-as-nobody", 4, "permission denied", all);
        // the human status (over HTTP for a non-root user): one line per area, "  master  UP …" or "! master  DOWN …"
        assertStep(steps, "status-as-nobody", 0, " master  ", all);
        assertStep(steps, "stop", 0, "Stopping binhost-agent", all);
        assertStep(steps, "agent-gone", 0, "", all);
        assertStep(steps, "socket-removed", 0, "", all);
        assertStep(steps, "trigger-stopped", 1, "cannot `trigger' as it has not been started", all);
        assertStep(steps, "cli-trigger-stopped", 3, "the agent is not running", all);
    }

    private static void assertStep(Map<String, Step> steps, String name, int rc, String contains, String all) {
        Step s = steps.get(name);
        assertTrue(s != null, "step " + name + " did not run:\n" + all);
        assertEquals(rc, s.rc(), "step " + name + ":\n" + all);
        assertTrue(s.output().contains(contains), "step " + name + " should say '" + contains + "':\n" + all);
    }

    static Map<String, Step> steps(String output) {
        Map<String, Step> steps = new LinkedHashMap<>();
        Matcher m = STEP.matcher(output);
        while (m.find()) {
            steps.put(m.group(2), new Step(Integer.parseInt(m.group(3)), m.group(1)));
        }
        return steps;
    }

    /** Debian's OpenRC unpacked (dpkg -x) where CI put it, or "" when the openrc package is installed. */
    private static String openrcRoot() {
        String named = System.getenv("BINHOST_TEST_OPENRC_ROOT");
        for (String candidate : new String[] {named, "/opt/openrc-root"}) {
            if (candidate != null && Files.isExecutable(Path.of(candidate, "sbin/openrc-run"))) {
                return candidate;
            }
        }
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/sbin/openrc-run")),
                "OpenRC not found: set BINHOST_TEST_OPENRC_ROOT to a dpkg -x of openrc, libeinfo1, librc1 "
                        + "(apt-get download openrc libeinfo1 librc1), or apt-get install openrc");
        return "";
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Whether the test runs as root (namespaces and setpriv need it). */
    static final class PreflightRoot {
        static boolean isRoot() throws Exception {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(l -> l.matches("Uid:\\s+\\d+\\s+0\\s.*"));
        }
    }
}
