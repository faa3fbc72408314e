package dev.binhost.agent.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures").toAbsolutePath();

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(Map<String, String> config, String... args) {
        return new Cli(CliConfig.of(config), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void check_seedMasterAndSlaveOnTheSeedsSlaveCpu_exits1AndSaysWhatToChange() {
        int code = run(Map.of("binhost.check.portage-dir", FIXTURES.resolve("portage/seed").toString(),
                "binhost.check.cpuinfo", FIXTURES.resolve("proc/cpuinfo-a9-9420").toString(),
                "binhost.check.mountinfo", FIXTURES.resolve("proc/mountinfo-ro-share").toString(),
                "binhost.check.tools", "sh"), "check");

        assertEquals(Cli.FINDINGS, code, out() + err());
        assertTrue(out().contains("PROBLEM  -march: the master builds with -march=native on a CPU that has 3dnow "
                + "3dnowext, which this CPU lacks"), out());
        assertTrue(out().contains("         change: on the master, replace -march=native"), out());
        assertTrue(out().contains("ADVICE  CPU_FLAGS_X86: this CPU also has bmi1 bmi2 rdrand"), out());
    }

    @Test
    void check_cleanSlave_exits0(@TempDir Path portage) throws Exception {
        Path mc = Files.createDirectories(portage.resolve("make.conf"));
        Files.writeString(mc.resolve("01master"), "CFLAGS=\"-march=native -O2\"\nCPU_FLAGS_X86=\"mmx sse sse2\"\n");
        Files.writeString(mc.resolve("02slave"), "CFLAGS=\"-march=native -O2\"\nCPU_FLAGS_X86=\"aes avx avx2 bmi1 bmi2 "
                + "f16c fma3 fma4 mmx mmxext pclmul popcnt rdrand sse sse2 sse3 sse4_1 sse4_2 sse4a ssse3 xop\"\n"
                + "DISTDIR=/var/cache/distfiles\n");
        int code = run(Map.of("binhost.check.portage-dir", portage.toString(),
                "binhost.check.cpuinfo", FIXTURES.resolve("proc/cpuinfo-a9-9420").toString(),
                "binhost.check.mountinfo", FIXTURES.resolve("proc/mountinfo-ro-share").toString(),
                "binhost.check.tools", "sh"), "check", "--json");
        // Only the root check can remain, and only when the tests do not run as root.
        boolean root = Files.exists(Path.of("/proc/self/status")) && run0();
        assertEquals(root ? Cli.OK : Cli.FINDINGS, code, out());
        assertTrue(out().strip().startsWith("["), out());
    }

    private static boolean run0() {
        try {
            return Cli.effectiveUid() == 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void trigger_withoutAnAgent_exits3AndSaysSo() {
        assertEquals(Cli.NOT_RUNNING, run(Map.of("binhost.control.socket", dir.resolve("no.sock").toString()), "trigger"));
        assertTrue(err().startsWith("binhost-agent: the agent is not running (no control socket at "), err());
        assertEquals(Cli.NOT_RUNNING, run(Map.of("binhost.control.socket", dir.resolve("no.sock").toString()), "status"));
    }

    @Test
    void usageErrors_exit2WithTheUsage() {
        assertEquals(Cli.USAGE, run(Map.of(), "status", "--yaml"));
        assertTrue(err().contains("unexpected argument '--yaml'"), err());
        assertEquals(Cli.USAGE, run(Map.of(), "history", "-n", "many"));
        assertEquals(Cli.USAGE, run(Map.of(), "history", "-n", "0"));
        assertEquals(Cli.USAGE, run(Map.of(), "trigger", "now"));
        assertTrue(err().contains("exit codes: 0 ok"), err());
    }

    @Test
    void history_tornAndForeignLines_areSkippedAndCounted() throws Exception {
        Files.write(dir.resolve("history.jsonl"), List.of(
                "{\"startedAt\":\"2026-11-20T03:00:00Z\",\"outcome\":\"success\",\"installedBinary\":41,"
                        + "\"plan\":{\"binaries\":41,\"compiled\":2,\"compiledPackages\":[]},\"preconditions\":[1,2]}",
                "[1,2]",
                "{\"startedAt\":\"2026-11-21T03:00:00Z\",\"outcome\":\"failure\",\"reason\":\"master DOWN\"}",
                "{\"startedAt\":\"2026-11-22T03:00:00Z\",\"outc"));
        Map<String, String> config = Map.of("binhost.agent.state-dir", dir.toString());

        assertEquals(Cli.OK, run(config, "history"));
        assertEquals("2026-11-20T03:00:00Z     success    installedBinary=41 plan.binaries=41 plan.compiled=2 preconditions=[2]\n"
                + "2026-11-21T03:00:00Z     failure    reason=master DOWN\n", out());
        assertTrue(err().contains("skipped 2 unreadable line(s)"), err());

        out.reset();
        assertEquals(Cli.OK, run(config, "history", "--json", "-n", "1"));
        assertTrue(out().contains("\"reason\" : \"master DOWN\""), out());
        assertTrue(!out().contains("success"), "only the newest run: " + out());
    }

    @Test
    void history_binaryGarbageAndBadFields_areSkipped_goodRunsListed() throws Exception {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write("{\"startedAt\":\"2026-11-20T03:00:00Z\",\"outcome\":\"success\"}\n".getBytes(StandardCharsets.UTF_8));
        file.write(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, '{', (byte) 0xc3, '\n'});
        file.write("{\"startedAt\":\"yesterday\",\"outcome\":42,\"endedAt\":null,\"plan\":[{}]}\n".getBytes(StandardCharsets.UTF_8));
        file.write("{\"startedAt\":{\"a\":[1]},\"outcome\":[\"x\"]}\n".getBytes(StandardCharsets.UTF_8));
        file.write("{\"startedAt\":\"2026-11-22T03:00:00Z\",\"outcome\":\"failed\"}\n".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("history.jsonl"), file.toByteArray());
        Map<String, String> config = Map.of("binhost.agent.state-dir", dir.toString());

        assertEquals(Cli.OK, run(config, "history"), err());
        assertTrue(out().startsWith("2026-11-20T03:00:00Z     success"), out());
        assertTrue(out().contains("2026-11-22T03:00:00Z     failed"), out());
        assertTrue(err().contains("skipped 1 unreadable line(s)"), err());

        out.reset();
        assertEquals(Cli.OK, run(config, "history", "--json"), err());
        assertTrue(out().contains("2026-11-22T03:00:00Z"), out());
    }

    @Test
    void history_noFileYet_saysSoAndExits0() {
        assertEquals(Cli.OK, run(Map.of("binhost.agent.state-dir", dir.toString()), "history"));
        assertTrue(out().startsWith("no update runs recorded yet"), out());
    }

    @Test
    void statusText_flattensNestedSections() {
        String text = StatusText.render(Map.of(
                "agent", Map.of("version", "0.1.0", "pid", 42, "uptimeSeconds", 3725),
                "mounts", Map.of("list", List.of(Map.of("path", "/usr/portage", "up", true)))));
        assertTrue(text.startsWith("binhost-agent 0.1.0, pid 42, up 1h 2m\n\nmounts\n"), text);
        assertTrue(text.matches("(?s).*\n  list\\[0]\\.path +/usr/portage\n.*"), text);
        assertTrue(text.matches("(?s).*\n  list\\[0]\\.up +true\n.*"), text);
    }
}
