package dev.binhost.agent.sync;

import dev.binhost.agent.config.AgentConfigs;
import dev.binhost.agent.config.ConfigCheck;
import dev.binhost.agent.config.OwnedDir;
import dev.binhost.agent.control.ControlServer;
import dev.binhost.agent.control.ControlProtocol;
import dev.binhost.agent.testing.RsyncDaemon;
import io.smallrye.config.SmallRyeConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile-input run's path cases: a staging, backup or socket path that names a directory or file the agent
 * does not own is refused by the start-up check with the key named, and a pull run anyway deletes nothing.
 */
class PathOwnershipTest {
    @TempDir
    Path work;
    Path root;
    Path portage;
    Path state;
    RsyncDaemon daemon;
    Map<String, String> props = new HashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        Path master = work.resolve("master/etc/portage");
        write(master.resolve("package.use/01master"), "app-office/libreoffice -gtk\n");
        write(master.resolve("make.conf/01master"), "USE=\"sse\"\n");
        daemon = RsyncDaemon.start(work, Map.of("portage-config", master));
        root = work.resolve("slave");
        portage = root.resolve("etc/portage");
        state = root.resolve("var/lib/binhost-agent");
        write(root.resolve("etc/passwd"), "root:x:0:0::/root:/bin/bash\n");
        write(root.resolve("etc/ssh/sshd_config"), "PermitRootLogin no\n");
        write(portage.resolve("package.use/02slave"), "app-office/libreoffice -bluetooth\n");
        write(portage.resolve("make.conf/02slave"), "USE=\"${USE} wifi\"\n");
        write(state.resolve("history.jsonl"), "{\"run\":1}\n");
        write(state.resolve("config-pull.last-success"), "2026-12-01T00:00:00Z\n");
        props.put("binhost.master.host", "127.0.0.1");
        props.put("binhost.master.nfs-check", "none");
        props.put("binhost.agent.state-dir", state.toString());
        props.put("binhost.agent.log-dir", root.resolve("var/log/binhost-agent").toString());
        props.put("binhost.sync.portage-dir", portage.toString());
        props.put("binhost.control.socket", root.resolve("run/binhost-agent/control.sock").toString());
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        daemon.close();
    }

    private SmallRyeConfig config() {
        return AgentConfigs.of(props);
    }

    private PullResult pull(SmallRyeConfig config) throws InterruptedException {
        return new ConfigPull(config.getConfigMapping(SyncConfig.class),
                new ConfigPull.Source("127.0.0.1", daemon.port, "portage-config"), state, ConfigPullTest.RUNNER,
                Clock.systemUTC()).pull();
    }

    /** The start-up check names the key, and a pull started regardless removes none of the files there were. */
    private void assertRefusedAndNothingLost(String key) throws Exception {
        Map<String, String> before = Snapshot.of(root);
        SmallRyeConfig config = config();

        List<String> problems = ConfigCheck.problems(config);
        PullResult result = pull(config);

        assertTrue(problems.stream().anyMatch(p -> p.startsWith(key + ": ")), problems.toString());
        assertNotEquals(PullResult.Outcome.APPLIED, result.outcome(), result.message());
        Map<String, String> after = Snapshot.of(root);
        before.forEach((path, what) -> assertEquals(what, after.get(path), path + " after: " + result.message()));
    }

    @Test
    void stagingDirIsTheParentOfThePortageDir_isRefused_andEtcKeepsPasswdSshAnd02Files() throws Exception {
        props.put("binhost.sync.staging-dir", root.resolve("etc").toString());
        assertRefusedAndNothingLost("binhost.sync.staging-dir");
    }

    @Test
    void stagingDirIsTheStateDir_isRefused_andTheStateFilesStay() throws Exception {
        props.put("binhost.sync.staging-dir", state.toString());
        assertRefusedAndNothingLost("binhost.sync.staging-dir");
    }

    @Test
    void backupDirIsTheStateDir_isRefused_andHistoryStays() throws Exception {
        props.put("binhost.sync.backup-dir", state.toString());
        assertRefusedAndNothingLost("binhost.sync.backup-dir");
    }

    @Test
    void backupDirIsTheParentOfThePortageDir_isRefused_andThe02FilesStay() throws Exception {
        props.put("binhost.sync.backup-dir", root.resolve("etc").toString());
        assertRefusedAndNothingLost("binhost.sync.backup-dir");
    }

    @Test
    void socketIsAnExistingRegularFile_isRefused_andTheFileStays() throws Exception {
        Path file = root.resolve("etc/passwd");
        props.put("binhost.control.socket", file.toString());

        List<String> problems = ConfigCheck.problems(config());
        IOException refused = assertThrows(IOException.class, () -> ControlServer.start(file, 0600, 0,
                (r, p) -> new ControlProtocol.Response(false, r.action(), "unknown-action", null, "no", null)));

        assertTrue(problems.stream().anyMatch(p -> p.startsWith("binhost.control.socket: ")
                && p.contains("not a socket")), problems.toString());
        assertTrue(refused.getMessage().contains("not a socket"), refused.getMessage());
        assertEquals("root:x:0:0::/root:/bin/bash\n", Files.readString(file));
    }

    @Test
    void defaultLayout_passesTheCheck_marksStagingAndBackup_andRotatesTheBackup() throws Exception {
        SmallRyeConfig config = config();
        assertEquals(List.of(), ConfigCheck.problems(config));

        assertEquals(PullResult.Outcome.APPLIED, pull(config).outcome());
        write(work.resolve("master/etc/portage/package.use/01master"), "app-office/libreoffice -gtk -java\n");
        PullResult second = pull(config);

        assertEquals(PullResult.Outcome.APPLIED, second.outcome(), second.message());
        assertTrue(Files.isRegularFile(root.resolve("etc/.portage.binhost-staging").resolve(OwnedDir.MARKER)));
        assertTrue(Files.isRegularFile(state.resolve("config-backup").resolve(OwnedDir.MARKER)));
        assertEquals("app-office/libreoffice -gtk\n",
                Files.readString(state.resolve("config-backup/tree/package.use/01master")));
        assertEquals("{\"run\":1}\n", Files.readString(state.resolve("history.jsonl")));
        assertEquals(List.of(), ConfigCheck.problems(config), "marked dirs pass the check on the next start");
    }

    @Test
    void backupLeftByAnOlderAgentWithoutMarker_isTakenOver() throws Exception {
        write(state.resolve("config-backup/tree/package.use/01old"), "old\n");
        write(state.resolve("config-backup/taken-at"), "2026-11-30T00:00:00Z\n");
        SmallRyeConfig config = config();

        assertEquals(List.of(), ConfigCheck.problems(config));
        PullResult result = pull(config);

        assertEquals(PullResult.Outcome.APPLIED, result.outcome(), result.message());
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }
}
