package dev.binhost.agent.sync;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.testing.RsyncDaemon;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static dev.binhost.agent.sync.ConfigPullTest.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An apply stopped between its renames (as by SIGKILL) is finished when the agent next starts, before any pull:
 * the live tree is one whole set again, no temp is left, and the backup is the whole previous set.
 */
class ApplyJournalTest {
    static final int FILES = 40;

    @TempDir
    Path work;
    Path master;
    RsyncDaemon daemon;
    TestSyncConfig config;

    @BeforeEach
    void setUp() throws Exception {
        master = work.resolve("master");
        writeSet("v1");
        daemon = RsyncDaemon.start(work, Map.of("portage-config", master));
        config = new TestSyncConfig(work.resolve("slave"));
        write(config.portageDir.resolve("package.use/02slave"), "slave\n");
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        daemon.close();
    }

    void writeSet(String version) throws Exception {
        for (int i = 0; i < FILES; i++) {
            write(master.resolve(String.format("package.use/01f%03d", i)), "a/b-" + i + " " + version + "\n");
        }
    }

    ConfigPull pull() {
        return new ConfigPull(config, new ConfigPull.Source("127.0.0.1", daemon.port, "portage-config"),
                work.resolve("state"), ConfigPullTest.RUNNER, Clock.systemUTC());
    }

    ConfigSync restart() {
        return new ConfigSync(config, pull(), Clock.systemUTC(), new Heartbeats(Clock.systemUTC()),
                new SimpleMeterRegistry(), () -> false);
    }

    @Test
    void restart_afterAnApplyKilledMidRename_finishesItAndKeepsTheWholePreviousSetAsBackup() throws Exception {
        assertEquals(PullResult.Outcome.APPLIED, pull().pull().outcome());
        Map<String, String> v1 = managed(config.portageDir);
        writeSet("v2");
        Files.delete(master.resolve("package.use/01f000"));
        write(master.resolve("package.use/01added"), "new\n");
        ConfigPull crashing = pull();
        crashing.stopAfterRenames = 4;

        assertThrows(Plan.Stopped.class, crashing::pull);
        assertTrue(temps(config.portageDir) > 0, "the stop left temps, as a kill would");
        assertNotEquals(v1, managed(config.portageDir));

        ConfigSync restarted = restart();
        try {
            Map<String, String> v2 = managed(master);
            assertEquals(v2, managed(config.portageDir), "the live tree is the whole new set");
            assertEquals(0, temps(config.portageDir));
            assertEquals(v1, managed(config.backupDir.resolve("tree")), "the backup is the whole old set");
            assertEquals("slave\n", Files.readString(config.portageDir.resolve("package.use/02slave")));
            assertFalse(Files.exists(work.resolve("state/config-apply.journal")));

            assertEquals(PullResult.Outcome.UNCHANGED, restarted.pullNow("test").outcome());
            assertEquals(v1, managed(config.backupDir.resolve("tree")), "an unchanged pull keeps the backup");
            assertTrue(restarted.rollBack().done());
            assertEquals(v1, managed(config.portageDir), "rollback restores the whole old set");
        } finally {
            restarted.stop(null);
        }
    }

    @Test
    void restart_afterARollbackKilledMidRename_finishesTheRollback() throws Exception {
        pull().pull();
        Map<String, String> v1 = managed(config.portageDir);
        writeSet("v2");
        assertEquals(PullResult.Outcome.APPLIED, pull().pull().outcome());
        Map<String, String> v2 = managed(config.portageDir);
        ConfigPull crashing = pull();
        crashing.stopAfterRenames = 1;

        assertThrows(Plan.Stopped.class, crashing::rollback);

        ConfigSync restarted = restart();
        try {
            assertEquals(v1, managed(config.portageDir));
            assertEquals(v2, managed(config.backupDir.resolve("tree")));
            assertEquals(0, temps(config.portageDir));
        } finally {
            restarted.stop(null);
        }
    }

    @Test
    void nextPull_afterAnApplyKilledMidRename_finishesItFirstWithoutARestart() throws Exception {
        pull().pull();
        Map<String, String> v1 = managed(config.portageDir);
        writeSet("v2");
        ConfigPull crashing = pull();
        crashing.stopAfterRenames = 0;
        assertThrows(Plan.Stopped.class, crashing::pull);

        PullResult next = crashing.pull();

        assertEquals(PullResult.Outcome.UNCHANGED, next.outcome(), next.message());
        assertEquals(managed(master), managed(config.portageDir));
        assertEquals(v1, managed(config.backupDir.resolve("tree")));
        assertEquals(0, temps(config.portageDir));
    }

    @Test
    void restart_withAJournalThatCannotBeFinished_isNotFreshAndPullsLeaveTheLiveTreeAlone() throws Exception {
        pull().pull();
        Map<String, String> v1 = managed(config.portageDir);
        writeSet("v2");
        Files.writeString(work.resolve("state/config-apply.journal"), "binhost-agent config apply journal 1\n"
                + "live " + config.portageDir.toAbsolutePath() + "\nbackup /nowhere\ninstall ../../outside\nend\n");

        ConfigSync restarted = restart();
        try {
            assertFalse(restarted.freshness().ok(), "readiness must not be UP over a tree that may mix two sets");
            assertTrue(restarted.freshness().detail().contains("interrupted config apply"),
                    restarted.freshness().detail());
            PullResult r = restarted.pullNow("test");
            assertEquals(PullResult.Outcome.FAILED, r.outcome(), r.message());
            assertTrue(r.message().contains("outside"), r.message());
            assertEquals(v1, managed(config.portageDir));
            assertFalse(restarted.freshness().ok());
        } finally {
            restarted.stop(null);
        }
    }

    /** The managed (01*) entries with type, mode and content hash; the slave's 02* files left out. */
    static Map<String, String> managed(Path root) throws Exception {
        Map<String, String> all = new TreeMap<>(Snapshot.of(root));
        all.keySet().removeIf(k -> k.contains("02slave"));
        return all;
    }

    static long temps(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().endsWith(Tree.TEMP_SUFFIX)).count();
        }
    }
}
