package dev.binhost.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.binhost.agent.mount.MountConfig;
import dev.binhost.agent.testing.Sh;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packaged agent on a real kernel NFS client: a User-Mode Linux guest (the host's own / as its read-only root)
 * runs kernel nfsd and nfs-ganesha as two masters and the installed agent as the slave, each in a network
 * namespace of the guest's, and goes through the faults of {@code src/test/resources/uml/agent-on-nfs.sh}. The
 * guest powers off at the end; what it saw comes back through a host folder ({@code target/real-nfs}, kept for a
 * look afterwards) and is asserted here, one test per scenario. Every process and address lives in the guest.
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RealNfsE2ETest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path LAB = AgentJar.BASE.resolve("src/test/resources/uml");
    /** What an admin following the seed writes in /etc/fstab: the agent's default options for NFS. */
    private static final String FSTAB_OPTIONS = MountConfig.NFS_DEFAULT_OPTIONS;
    /** RPC NULL calls the master's NFS server answered. */
    private static final String NFS_PROBES_OK =
            "binhost_master_probe_duration_seconds_count{outcome=\"success\",probe=\"nfs\"}";

    private Path out;
    private Path results;
    private final Map<String, Step> steps = new LinkedHashMap<>();
    private int bootExit;
    private String bootLog = "";
    /** Why the guest could not run at all on this host, or null. */
    private String notRun;

    @BeforeAll
    void bootTheGuest() throws Exception {
        if (!Sh.root()) {
            fail("the real-NFS rig needs root (UML, network namespaces and mounts inside the guest)");
        }
        for (String tool : List.of("/usr/bin/linux.uml", "/usr/sbin/rpc.nfsd", "/usr/bin/ganesha.nfsd",
                "/usr/sbin/mount.nfs4", "/usr/sbin/modprobe")) {
            if (!Files.isExecutable(Path.of(tool))) {
                fail(tool + " is missing: apt-get install user-mode-linux kmod nfs-common nfs-kernel-server "
                        + "nfs-ganesha nfs-ganesha-vfs (.ci/run does)");
            }
        }
        out = AgentJar.BASE.resolve("target/real-nfs");
        Sh.run("rm -rf '" + out + "' && mkdir -p '" + out + "'");
        results = out.resolve("results");
        Path root = out.resolve("root");
        AgentJar.ensureBuilt();
        // the jar and launcher as installed
        Sh.run("'" + AgentJar.BASE.resolve("deploy/install.sh") + "' --destdir '" + root + "' --init openrc"
                + " --app '" + AgentJar.BASE.resolve("target/quarkus-app") + "'");
        MasterTree.write(out.resolve("master/etc/portage"));
        MasterTree.writeSlave(out.resolve("slave/etc/portage"));
        // the rsync daemon in the guest serves as nobody
        Sh.run("chmod -R a+rX '" + out + "'");
        Path conf = Files.createDirectories(out.resolve("agent"));
        writeProperties(conf.resolve("fstab.properties"), config("fstab", "10.99.1.1", Map.of(
                "binhost.mount.mounts.packages.fstab", "true")));
        writeProperties(conf.resolve("explicit.properties"), config("explicit", "10.99.2.1", Map.of(
                "binhost.mount.mounts.packages.source", "10.99.2.1:/g")));
        Map<String, String> refused = config("refused", "10.99.2.1", Map.of(
                "binhost.mount.mounts.packages.source", "10.99.2.1:/not-exported"));
        // the error stays in the status until the next attempt, which the snapshot must not race
        refused.put("binhost.mount.retry-interval", "2m");
        writeProperties(conf.resolve("refused.properties"), refused);
        Files.writeString(out.resolve("run.sh"), """
                export LAB='%s' AGENT_BIN='%s' AGENT_HOME='%s' JAVA='%s' CONF='%s'
                export MASTER_TREE='%s' SLAVE_TREE='%s' FSTAB_OPTIONS='%s'
                . "$LAB/agent-on-nfs.sh"
                """.formatted(LAB, root.resolve("usr/bin/binhost-agent"), root.resolve("usr/lib/binhost-agent"),
                AgentJar.java(), conf, out.resolve("master/etc/portage"), out.resolve("slave/etc/portage"),
                FSTAB_OPTIONS));
        Sh.run("chmod +x '" + out.resolve("run.sh") + "'");

        Process uml = new ProcessBuilder(LAB.resolve("boot.sh").toString(), out.toString(), "1500")
                .redirectErrorStream(true).redirectOutput(out.resolve("boot.log").toFile()).start();
        try {
            if (!uml.waitFor(26, TimeUnit.MINUTES)) {
                fail("the guest did not power off within 26 minutes; see " + out);
            }
        } finally {
            // boot.sh's timeout kills the kernel, whose helpers are its children; whatever is left goes by PID
            uml.descendants().forEach(ProcessHandle::destroyForcibly);
            uml.destroyForcibly();
        }
        bootExit = uml.exitValue();
        bootLog = Files.readString(out.resolve("boot.log"));
        // Debian's UML kernel (6.1) cannot run guest processes on a host CPU whose FP register state is larger
        // than it knows (AMX): ptrace refuses it, the guest's init dies at once and the kernel panics. Nothing
        // of the rig ran, so there is nothing to assert: each test is skipped with the reason (so the report
        // counts them as skipped, not as not there), any other panic or failure still fails them.
        if (bootExit == 126 && bootLog.contains("ptrace set fp regs failed")) {
            notRun = "the UML guest kernel cannot run on this host's CPU: " + bootLog.strip();
            System.out.println("real-NFS guest: ALL SCENARIOS SKIPPED: " + notRun);
            return;
        }
        if (Files.exists(results.resolve("steps.tsv"))) {
            for (String line : Files.readAllLines(results.resolve("steps.tsv"))) {
                String[] f = line.split("\t");
                if (f.length >= 3) {
                    double seconds = f.length > 3 ? Double.parseDouble(f[3]) : 0;
                    steps.put(f[0] + "/" + f[1], new Step(f[2].equals("ok"), seconds));
                }
            }
        }
        if (Files.exists(results.resolve("figures.tsv"))) {
            for (String line : Files.readAllLines(results.resolve("figures.tsv"))) {
                String[] f = line.split("\t");
                E2e.figure("real NFS, " + f[0] + ": " + f[1], f[2] + " s");
            }
        }
    }

    @BeforeEach
    void theGuestCouldRun() {
        Assumptions.assumeTrue(notRun == null, () -> notRun);
    }

    @AfterAll
    void report() {
        System.out.println("real-NFS guest: exit " + bootExit + ", results in " + out);
    }

    /** The keys every agent of the guest has: fast probes, its own state, nothing scheduled. */
    private Map<String, String> config(String name, String master, Map<String, String> mount) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("binhost.master.host", master);
        c.put("binhost.master.nfs-check", "rpc");
        c.put("binhost.master.probe-interval", "1s");
        c.put("binhost.master.probe-jitter", "0s");
        c.put("binhost.master.connect-timeout", "1s");
        c.put("binhost.master.read-timeout", "1s");
        c.put("binhost.master.down-after-failures", "2");
        c.put("binhost.master.up-after-successes", "1");
        String agent = "/tmp/agent-" + name;
        String slave = "/tmp/slave-" + name;
        c.put("binhost.agent.state-dir", agent + "/state");
        c.put("binhost.agent.log-dir", agent + "/log");
        c.put("binhost.control.socket", agent + "/run/control.sock");
        c.put("binhost.sync.portage-dir", slave + "/etc/portage");
        c.put("binhost.sync.deadline", "20s");
        c.put("binhost.sync.connect-timeout", "2s");
        c.put("binhost.sync.io-timeout", "5s");
        c.put("binhost.update.emerge-command", AgentJar.BASE.resolve("src/test/resources/standin/emerge-standin.sh")
                .toString());
        c.put("binhost.update.cron", "0 30 3 * * ?");
        c.put("binhost.update.catch-up", "false");
        c.put("binhost.update.make-conf", slave + "/etc/portage/make.conf");
        c.put("binhost.update.eroot", slave + "/eroot");
        c.put("binhost.mount.mounts.packages.target", "/mnt/packages");
        c.putAll(mount);
        c.put("binhost.mount.probe-interval", "2s");
        // a statfs through UML's slow forks takes up to half a second on a healthy server
        c.put("binhost.mount.probe-timeout", "1500ms");
        // longer than the master watch takes to go DOWN (2 rounds of 1 s + 1 s timeouts), so after a stale release
        // the next mount waits for the master to be UP again, as with the defaults (5m against 3 × 30 s)
        c.put("binhost.mount.retry-interval", "10s");
        c.put("binhost.mount.command-timeout", "20s");
        c.put("binhost.mount.make-conf", slave + "/etc/portage/make.conf");
        return c;
    }

    private static void writeProperties(Path file, Map<String, String> config) throws IOException {
        StringBuilder text = new StringBuilder("# written by RealNfsE2ETest for an agent in the UML guest\n");
        config.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(file, text);
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    void theGuestRanEveryScenario() throws IOException {
        assertEquals(0, bootExit, "guest exit; boot log:\n" + bootLog + "\npayload:\n" + tail("payload.log"));
        List<String> failed = steps.entrySet().stream().filter(e -> !e.getValue().ok())
                .map(e -> e.getKey() + " " + e.getValue()).toList();
        assertTrue(failed.isEmpty(), "steps that failed in the guest: " + failed + "\npayload:\n"
                + tail("payload.log"));
        for (String scenario : List.of("fstab-up", "restart-keeps-ownership", "server-stopped", "export-replaced",
                "admin-mount-left-alone", "explicit-up", "link-cut", "frozen-idle", "frozen-emerge-reading",
                "mount-refused")) {
            assertTrue(Files.isDirectory(results.resolve(scenario)), "no snapshot of " + scenario);
        }
    }

    @Test
    void fstabMount_onKernelNfsd_isNfs4InMountinfo_readyWithTheRpcNullProbeAnswered() throws IOException {
        Snap s = snap("fstab-up", "up");
        s.assertReady();
        MountLine m = s.mountAtTarget()
                .orElseThrow(() -> new AssertionError("nothing at /mnt/packages:\n" + s.mountinfo));
        assertEquals("nfs4", m.type);
        assertEquals("10.99.1.1:/packages", m.source);
        assertTrue(m.superOptions.contains("soft") && m.superOptions.contains("vers=4"), m.superOptions);
        assertEquals(1.0, SlaveAgent.metric(s.metrics, "binhost_mount_up{mount=\"packages\"}"), s.metrics);
        // the RPC NULL call to kernel nfsd: the master is UP only when every probe answered
        assertEquals("UP", s.ready.check("master").path("status").asText(), s.readyText);
        assertTrue(SlaveAgent.metric(s.metrics, NFS_PROBES_OK) >= 1.0, s.metrics);
        assertEquals("MOUNTED", mountStatus(s).path("phase").asText(), s.statusJson.toString());
        assertTrue(mountStatus(s).path("ownedByAgent").asBoolean(), s.statusJson.toString());
    }

    @Test
    void restart_withTheShareMounted_keepsTheMountAndItsOwnership() throws IOException {
        assertStep("restart-keeps-ownership/still-mounted-after-stop");
        assertStep("restart-keeps-ownership/same-mount-id");
        Snap s = snap("restart-keeps-ownership", "after-restart");
        s.assertReady();
        assertTrue(mountStatus(s).path("ownedByAgent").asBoolean(), "the owned-mounts file carried it over: "
                + s.statusJson);
    }

    @Test
    void serverStopped_readyDownWithTheReason_liveUp_released_thenRemountedWhenBack() throws IOException {
        faultAndRecovery("server-stopped", "fstab");
        Snap down = snap("server-stopped", "down");
        assertTrue(down.readyText.contains("connection refused by 10.99.1.1:2049"),
                "the reason names the NFS probe: " + down.readyText);
        assertEquals(0.0, SlaveAgent.metric(down.metrics, "binhost_mount_up{mount=\"packages\"}"));
    }

    @Test
    void exportReplaced_staleFileHandle_isDetectedAndTheNewExportMounted() throws IOException {
        assertStep("export-replaced/reader-pinned");
        assertStep("export-replaced/remounted-new-export");
        String pinned = Files.readString(results.resolve("export-replaced-pinned-cwd.txt"));
        assertTrue(pinned.contains("Stale file handle"), "a cwd in the old export sees ESTALE: " + pinned);
        Snap s = snap("export-replaced", "remounted");
        s.assertReady();
        String log = Files.readString(results.resolve("agent-fstab/agent.log"));
        assertTrue(log.contains("Stale file handle"), "the agent's probe reported ESTALE:\n" + lastLines(log, 40));
    }

    @Test
    void anAdminsMount_isUsedAsIs_andNotUnmountedWhenTheMasterGoesDown() throws IOException {
        assertStep("admin-mount-left-alone/admin-mounts");
        assertStep("admin-mount-left-alone/admin-mount-still-there");
        Snap adopted = snap("admin-mount-left-alone", "adopted");
        assertFalse(mountStatus(adopted).path("ownedByAgent").asBoolean(true), adopted.statusJson.toString());
        Snap down = snap("admin-mount-left-alone", "master-down");
        down.assertNotReadyButLive();
        String id = down.note.replaceAll(".*: ", "").strip();
        assertEquals(id, down.mountAtTarget().orElseThrow(() -> new AssertionError(down.mountinfo)).id);
    }

    @Test
    void explicitMount_onGanesha_withTheDefaultOptions_readyWithTheRpcNullProbeAnswered() throws IOException {
        Snap s = snap("explicit-up", "up");
        s.assertReady();
        MountLine m = s.mountAtTarget().orElseThrow(() -> new AssertionError(s.mountinfo));
        assertEquals("nfs4", m.type);
        assertEquals("10.99.2.1:/g", m.source);
        for (String o : MountConfig.NFS_DEFAULT_OPTIONS.split(",")) {
            if (o.startsWith("timeo=") || o.startsWith("retrans=") || o.equals("soft")) {
                assertTrue(List.of(m.superOptions.split(",")).contains(o), o + " in " + m.superOptions);
            }
        }
        assertTrue(SlaveAgent.metric(s.metrics, NFS_PROBES_OK) >= 1.0, s.metrics);
    }

    @Test
    void linkCut_readyDown_released_thenRemountedWhenTheLinkIsBack() throws IOException {
        faultAndRecovery("link-cut", "explicit");
    }

    @Test
    void frozenServer_idle_readyDown_releasedLazily_thenRemountedAfterThaw() throws IOException {
        faultAndRecovery("frozen-idle", "explicit");
    }

    @Test
    void frozenServer_whileEmergeReads_releaseWaitsNamingEmergesPid_agentNeverBlocks() throws IOException {
        assertStep("frozen-emerge-reading/release-deferred-naming-emerge");
        assertStep("frozen-emerge-reading/still-mounted-under-emerge");
        Snap s = snap("frozen-emerge-reading", "deferred");
        s.assertNotReadyButLive();
        String pid = s.note.replaceAll("emerge pid (\\d+).*", "$1").strip();
        assertTrue(mountStatus(s).toString().contains(pid), "the status names emerge's pid " + pid + ": "
                + s.statusJson);
        assertTrue(s.note.endsWith("D"), "the stand-in emerge waits on the frozen server: " + s.note);
        assertTrue(s.mountAtTarget().isPresent(), "not released under emerge: " + s.mountinfo);
        assertTrue(snap("frozen-emerge-reading", "released").mountAtTarget().isEmpty());
        snap("frozen-emerge-reading", "back").assertReady();
    }

    @Test
    void mountRefused_byTheServer_givesAClearErrorFast() throws IOException {
        assertStep("mount-refused/mount-error-reported");
        Snap s = snap("mount-refused", "refused");
        JsonNode m = mountStatus(s);
        assertEquals("ERROR", m.path("phase").asText(), s.statusJson.toString());
        String detail = m.path("detail").asText();
        assertTrue(detail.contains("10.99.2.1:/not-exported") && detail.contains("No such file or directory"),
                detail);
        assertTrue(s.mountAtTarget().isEmpty(), s.mountinfo);
        assertEquals(503, s.readyCode);
        double took = steps.get("mount-refused/mount-error-reported").seconds();
        assertTrue(took < 60, "reported within a minute of the agent's start, not after mount's 2-minute retry: "
                + took);
    }

    // ---------------------------------------------------------------------------------------------------------

    private void faultAndRecovery(String scenario, String agent) throws IOException {
        assertStep(scenario + "/ready-down");
        assertStep(scenario + "/released");
        assertStep(scenario + "/back");
        // released with the master DOWN and readiness saying why; liveness never waits on the share
        Snap down = snap(scenario, "down");
        down.assertNotReadyButLive();
        assertTrue(down.mountAtTarget().isEmpty(), down.mountinfo);
        JsonNode m = mountStatus(down);
        assertEquals("released", m.path("state").asText(), down.statusJson.toString());
        assertFalse(m.path("ownedByAgent").asBoolean(true), down.statusJson.toString());
        Snap back = snap(scenario, "back");
        back.assertReady();
        assertEquals("nfs4", back.mountAtTarget().orElseThrow().type);
        // with the server away a plain umount waits for it until its deadline; the agent detaches at once
        String log = Files.readString(results.resolve("agent-" + agent + "/agent.log"));
        assertFalse(log.contains("umount passed its deadline"), lastLines(log, 40));
        assertTrue(log.contains("released lazily /mnt/packages"), lastLines(log, 40));
    }

    private void assertStep(String key) throws IOException {
        Step v = steps.get(key);
        assertTrue(v != null && v.ok(), key + ": " + v + "\npayload:\n" + tail("payload.log"));
    }

    private String tail(String file) throws IOException {
        Path p = out.resolve(file);
        return Files.exists(p) ? lastLines(Files.readString(p), 30) : "(no " + file + ")";
    }

    private static String lastLines(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }


    private static JsonNode mountStatus(Snap s) {
        JsonNode m = s.statusJson.findPath("mounts").path("packages");
        if (m.isMissingNode()) {
            throw new AssertionError("no mount 'packages' in the status: " + s.statusJson);
        }
        return m;
    }

    private Snap snap(String scenario, String label) throws IOException {
        Path d = results.resolve(scenario).resolve(label);
        if (!Files.isDirectory(d)) {
            fail("no snapshot " + scenario + "/" + label + "; steps: " + steps + "\npayload:\n" + tail("payload.log"));
        }
        return new Snap(d);
    }

    /** One step the guest recorded: a wait for a condition or a fact it checked, and how long it took. */
    record Step(boolean ok, double seconds) {
        @Override
        public String toString() {
            return (ok ? "ok" : "FAIL") + " after " + seconds + " s";
        }
    }

    record MountLine(String id, String type, String source, String superOptions) {
    }

    /** One checkpoint the guest recorded: health, metrics, the CLI's status, the mount table, the agent's threads. */
    final class Snap {
        final String where;
        final int liveCode;
        final int readyCode;
        final String readyText;
        final SlaveAgent.Answer ready;
        final String metrics;
        final JsonNode statusJson;
        final String mountinfo;
        final String note;
        final List<String[]> threads = new ArrayList<>();

        Snap(Path d) throws IOException {
            where = results.relativize(d).toString();
            liveCode = Integer.parseInt(Files.readString(d.resolve("live.code")).strip());
            readyCode = Integer.parseInt(Files.readString(d.resolve("ready.code")).strip());
            readyText = Files.readString(d.resolve("ready.json"));
            ready = new SlaveAgent.Answer(readyCode, readyText);
            metrics = Files.readString(d.resolve("metrics.txt"));
            String status = Files.readString(d.resolve("status.json"));
            statusJson = status.isBlank() ? JSON.missingNode() : JSON.readTree(status);
            mountinfo = Files.readString(d.resolve("mountinfo"));
            note = Files.readString(d.resolve("note.txt")).strip();
            // Two samples of every agent thread, half a second apart. A thread waiting on a file system sits in D
            // with an NFS/RPC/FUSE wait channel, and stays there; D while the kernel sets up a child process
            // (posix_spawn, a futex) passes within microseconds.
            List<String[]> later = new ArrayList<>();
            for (String line : Files.readAllLines(d.resolve("threads.tsv"))) {
                threads.add(line.split("\t", -1));
            }
            for (String line : Files.readAllLines(d.resolve("threads2.tsv"))) {
                later.add(line.split("\t", -1));
            }
            // the threads are the agent JVM's, not those of a shell around it
            assertEquals("java", Files.readString(d.resolve("comm")).strip(), where + ": the recorded pid's command");
            assertTrue(threads.size() > 5, where + ": the agent JVM's threads: " + threads.size());
            List<String> blocked = new ArrayList<>();
            for (String[] t : threads) {
                boolean fsWait = t.length > 3 && t[2].equals("D") && t[3].matches(".*(nfs|rpc|fuse).*");
                boolean stillD = t[2].equals("D") && later.stream().anyMatch(u -> u[0].equals(t[0])
                        && u[2].equals("D") && u[3].equals(t[3]));
                if (fsWait || stillD) {
                    blocked.add(t[1] + " (" + t[3] + ")");
                }
            }
            assertTrue(blocked.isEmpty(), where + ": agent threads inside a file-system call: " + blocked);
            assertFalse(statusJson.isMissingNode(), where + ": the CLI's status --json said nothing: "
                    + Files.readString(d.resolve("status.err")));
        }

        Optional<MountLine> mountAtTarget() {
            return mountinfo.lines().map(l -> l.split(" ")).filter(f -> f.length > 9 && f[4].equals("/mnt/packages"))
                    .map(f -> {
                        int dash = List.of(f).indexOf("-");
                        return new MountLine(f[0], f[dash + 1], f[dash + 2], f[dash + 3]);
                    }).reduce((a, b) -> b);
        }

        void assertReady() {
            assertEquals(200, liveCode, where);
            assertEquals(200, readyCode, where + ": " + readyText);
            assertNotEquals("", metrics, where);
        }

        void assertNotReadyButLive() {
            assertEquals(200, liveCode, where + ": live stays UP");
            assertEquals(503, readyCode, where + ": " + readyText);
        }
    }
}
