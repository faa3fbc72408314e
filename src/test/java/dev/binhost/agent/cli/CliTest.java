package dev.binhost.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.binhost.agent.history.RunHistory;
import dev.binhost.agent.history.RunRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
        Path eroot = Files.createDirectories(portage.resolve("root"));
        int code = run(Map.of("binhost.check.portage-dir", portage.toString(),
                "binhost.check.cpuinfo", FIXTURES.resolve("proc/cpuinfo-a9-9420").toString(),
                "binhost.check.mountinfo", FIXTURES.resolve("proc/mountinfo-ro-share").toString(),
                "binhost.check.tools", "sh",
                "binhost.update.eroot", eroot.toString(),
                "binhost.followup.glsa-check-command", portage.resolve("no-glsa-check").toString(),
                "binhost.followup.portageq-command", portage.resolve("no-portageq").toString(),
                "binhost.followup.needrestart-command", portage.resolve("no-needrestart").toString(),
                "binhost.update.emerge-command", portage.resolve("no-emerge").toString()), "check", "--json");
        // Only the root check can remain, and only when the tests do not run as root.
        boolean root = Files.exists(Path.of("/proc/self/status")) && run0();
        assertEquals(root ? Cli.OK : Cli.FINDINGS, code, out());
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out());
        assertTrue(json.get("findings").isArray(), out());
        // the follow-ups the clean slave can tell without Portage's tools; the missing tools are named, not errors
        var f = json.get("followUp");
        assertEquals("ok", f.at("/configFiles/status").asText(), out());
        assertEquals(0, f.at("/configFiles/count").asInt(), out());
        assertEquals("ok", f.at("/news/status").asText(), out());
        for (String missing : new String[] {"glsa", "preservedLibs", "restart", "orphans"}) {
            assertEquals("not-installed", f.at("/" + missing + "/status").asText(), missing + ": " + out());
        }
        assertTrue(f.at("/glsa/detail").asText().endsWith("no-glsa-check not found"), out());
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

    /** Two runs the demo agent wrote (a success, then one its preconditions blocked), verbatim. */
    static final Path DEMO_HISTORY = Path.of("src/test/resources/cli/history-demo.jsonl").toAbsolutePath();

    @Test
    void history_readsTheAgentsRecords_oneLineEach_tornLastLineSkipped() throws Exception {
        Path file = dir.resolve("history.jsonl");
        Files.copy(DEMO_HISTORY, file);
        Files.writeString(file, "{\"id\":\"20261202T015000Z-77aa\",\"reason\":\"sched", StandardOpenOption.APPEND);

        assertEquals(Cli.OK, run(Map.of("binhost.agent.state-dir", dir.toString()), "history"), err());
        List<String> lines = out().lines().toList();
        assertEquals(2, lines.size(), out());
        assertEquals("2026-12-02T01:42:17Z  success        trigger       5 s  merged 10 packages (7 binary, 3 compiled)"
                + "  (20261202T014217Z-445f)", lines.get(0));
        assertTrue(lines.get(1).startsWith("2026-12-02T01:43:57Z  skipped        trigger       0 s  blocked by "
                + "master-up (master 127.0.0.1 is DOWN"), lines.get(1));
        assertTrue(lines.get(1).endsWith("  (20261202T014357Z-a1b1)"), lines.get(1));
        assertEquals("binhost-agent: skipped 1 unreadable line(s) in " + file + " (line 3)\n", err());
    }

    @Test
    void history_json_printsTheRecordsAsStored_newestN() throws Exception {
        Files.copy(DEMO_HISTORY, dir.resolve("history.jsonl"));
        Map<String, String> config = Map.of("binhost.agent.state-dir", dir.toString());
        ObjectMapper mapper = new ObjectMapper();
        List<String> stored = Files.readAllLines(DEMO_HISTORY);

        assertEquals(Cli.OK, run(config, "history", "--json"), err());
        JsonNode all = mapper.readTree(out());
        assertEquals(mapper.createArrayNode().add(mapper.readTree(stored.get(0))).add(mapper.readTree(stored.get(1))),
                all);

        out.reset();
        assertEquals(Cli.OK, run(config, "history", "--json", "-n", "1"), err());
        assertEquals(mapper.createArrayNode().add(mapper.readTree(stored.get(1))), mapper.readTree(out()));
        assertEquals("", err());
    }

    @Test
    void history_garbageAndRecordsTheAgentCouldNotUse_areSkippedByLine_goodRunsListed() throws Exception {
        List<String> stored = Files.readAllLines(DEMO_HISTORY);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write((stored.get(0) + "\n").getBytes(StandardCharsets.UTF_8));
        file.write(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, '{', (byte) 0xc3, '\n'});
        // what the old CLI's guessing reader listed: no id, no end, an outcome the runner never writes
        file.write("{\"startedAt\":\"2026-11-21T03:00:00Z\",\"outcome\":\"failure\"}\n".getBytes(StandardCharsets.UTF_8));
        file.write(stored.get(1).replace("\"startedAt\":\"2026-12-02T01:43:57.327262963Z\"", "\"startedAt\":\"yesterday\"")
                .concat("\n").getBytes(StandardCharsets.UTF_8));
        file.write((stored.get(1) + "\n").getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("history.jsonl"), file.toByteArray());

        assertEquals(Cli.OK, run(Map.of("binhost.agent.state-dir", dir.toString()), "history"), err());
        List<String> lines = out().lines().toList();
        assertEquals(2, lines.size(), out());
        assertTrue(lines.get(0).endsWith("(20261202T014217Z-445f)"), out());
        assertTrue(lines.get(1).endsWith("(20261202T014357Z-a1b1)"), out());
        assertTrue(err().contains("skipped 3 unreadable line(s) in " + dir.resolve("history.jsonl") + " (line 2, 3, 4)"),
                err());
    }

    @Test
    void history_failedRun_namesThePackageAndPhase() throws Exception {
        RunHistory agent = new RunHistory(dir.resolve("history.jsonl"), 100);
        agent.append(new RunRecord("20261202T030000Z-0a0a", "schedule", "schedule", "2026-12-02T03:00:00Z",
                "2026-12-02T04:12:30Z", List.of(), null, "apply", dev.binhost.agent.history.RunOutcome.FAILED, 1, "dev-libs/libdemo-1.2.3", "compile",
                "emerge exited 1", 4, 0, null, null));

        assertEquals(Cli.OK, run(Map.of("binhost.agent.state-dir", dir.toString()), "history", "-n", "5"), err());
        assertEquals("2026-12-02T03:00:00Z  failed         schedule   1h 12m  at dev-libs/libdemo-1.2.3 (compile): "
                + "emerge exited 1  (20261202T030000Z-0a0a)\n", out());
    }

    @Test
    void history_noFileYet_saysSoAndExits0() {
        assertEquals(Cli.OK, run(Map.of("binhost.agent.state-dir", dir.toString()), "history"));
        assertTrue(out().startsWith("no update runs recorded yet"), out());
    }
}
