package dev.binhost.agent.sync;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.testing.RsyncDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pull against a real rsync daemon on loopback: deletions, refusals, modes, rollback, killed transfers. */
class ConfigPullTest {
    static final ProcessRunner RUNNER = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1), 65536);
    static final int SIGSTOP = 19;
    static final int SIGCONT = 18;

    @TempDir
    Path work;
    Path master;
    RsyncDaemon daemon;
    TestSyncConfig config;

    @BeforeEach
    void setUp() throws Exception {
        master = work.resolve("master/etc/portage");
        write(master.resolve("package.use/01master"), "app-office/libreoffice -gtk\n");
        write(master.resolve("package.use/01extra"), "dev-lang/rust -doc\n");
        write(master.resolve("make.conf/01master"), "USE=\"sse\"\n");
        write(master.resolve("env/nostrip"), "FEATURES=nostrip\n");
        daemon = RsyncDaemon.start(work, Map.of("portage-config", master));
        config = new TestSyncConfig(work.resolve("slave"));
        write(config.portageDir.resolve("package.use/02slave"), "app-office/libreoffice -bluetooth\n");
        write(config.portageDir.resolve("make.conf/02slave"), "USE=\"${USE} wifi\"\n");
        write(config.portageDir.resolve("package.use/02slave~"), "editor backup\n");
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        daemon.close();
    }

    ConfigPull pull(RsyncDaemon from) {
        return new ConfigPull(config, new ConfigPull.Source("127.0.0.1", from.port, "portage-config"),
                work.resolve("state"), RUNNER, Clock.systemUTC());
    }

    @Test
    void pull_whenMasterDeletesA01File_removesItAndKeeps02Files() throws Exception {
        assertEquals(PullResult.Outcome.APPLIED, pull(daemon).pull().outcome());
        Files.delete(master.resolve("package.use/01extra"));
        Files.writeString(master.resolve("package.use/01master"), "app-office/libreoffice -gtk -java\n");

        PullResult second = pull(daemon).pull();

        assertEquals(PullResult.Outcome.APPLIED, second.outcome(), second.message());
        assertEquals(List.of("package.use/01extra"), second.changes().removed());
        assertEquals(List.of("package.use/01master"), second.changes().changed());
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01extra")));
        assertEquals("app-office/libreoffice -gtk -java\n",
                Files.readString(config.portageDir.resolve("package.use/01master")));
        assertEquals("app-office/libreoffice -bluetooth\n",
                Files.readString(config.portageDir.resolve("package.use/02slave")));
        assertTrue(Files.exists(config.portageDir.resolve("package.use/02slave~")));
        assertTrue(Files.exists(config.portageDir.resolve("make.conf/02slave")));
    }

    @Test
    void pull_whenNothingChangedOnTheMaster_reportsUnchangedAndWritesNothing() throws Exception {
        pull(daemon).pull();
        Map<String, String> before = Snapshot.of(config.portageDir);

        PullResult again = pull(daemon).pull();

        assertEquals(PullResult.Outcome.UNCHANGED, again.outcome(), again.message());
        assertEquals(before, Snapshot.of(config.portageDir));
    }

    @Test
    void pull_whenDeletionIsSwitchedOff_keepsFilesTheMasterDropped() throws Exception {
        config.delete = false;
        pull(daemon).pull();
        Files.delete(master.resolve("package.use/01extra"));

        PullResult second = pull(daemon).pull();

        assertEquals(PullResult.Outcome.UNCHANGED, second.outcome(), second.message());
        assertTrue(Files.exists(config.portageDir.resolve("package.use/01extra")));
    }

    @Test
    void pull_whenTheModuleOffersNo01File_isRefusedUnlessAllowed() throws Exception {
        pull(daemon).pull();
        Map<String, String> before = Snapshot.of(config.portageDir);
        try (Stream<Path> files = Files.walk(master)) {
            for (Path p : files.filter(Files::isRegularFile).filter(p -> p.getFileName().toString()
                    .startsWith("01")).toList()) {
                Files.delete(p);
            }
        }

        PullResult refused = pull(daemon).pull();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome());
        assertTrue(refused.message().contains("remove all 3"), refused.message());
        assertTrue(refused.message().contains("binhost.sync.allow-empty"), refused.message());
        assertEquals(before, Snapshot.of(config.portageDir));

        config.allowEmpty = true;
        PullResult allowed = pull(daemon).pull();
        assertEquals(PullResult.Outcome.APPLIED, allowed.outcome(), allowed.message());
        assertEquals(3, allowed.changes().removed().size());
    }

    @Test
    void pull_whenAMasterFileIsOverTheSizeLimit_isRefusedNamingIt() throws Exception {
        pull(daemon).pull();
        Map<String, String> before = Snapshot.of(config.portageDir);
        config.maxFileSize = "1K";
        write(master.resolve("package.use/01huge"), "x".repeat(5000));
        Files.delete(master.resolve("package.use/01extra"));

        PullResult refused = pull(daemon).pull();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome());
        assertTrue(refused.message().contains("package.use/01huge"), refused.message());
        assertEquals(before, Snapshot.of(config.portageDir));
    }

    @Test
    void pull_whenTheMasterHasMoreFilesThanTheLimit_isRefused() throws Exception {
        config.maxFiles = 3;
        PullResult refused = pull(daemon).pull();
        assertEquals(PullResult.Outcome.REFUSED, refused.outcome());
        assertTrue(refused.message().contains("binhost.sync.max-files (3)"), refused.message());
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01master")));
    }

    @Test
    void pull_whenMasterFilesAreSetuidOrExecutable_writesThem0644AndDirectories0755() throws Exception {
        chmod("4777", master.resolve("package.use/01master"));
        write(master.resolve("package.mask/01mask"), "sys-apps/x\n");
        Files.setPosixFilePermissions(master.resolve("package.mask"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(master.resolve("package.mask/01mask"),
                PosixFilePermissions.fromString("rwxr-x---"));

        assertTrue(pull(daemon).pull().succeeded());

        Map<String, String> live = Snapshot.of(config.portageDir);
        assertTrue(live.get("package.use/01master").startsWith("f 644 "), live.toString());
        assertTrue(live.get("package.mask/01mask").startsWith("f 644 "), live.toString());
        assertEquals("d 755", live.get("package.mask"));
    }

    @Test
    void pull_whenTheSlaveHasMakeConfAsAFile_isRefusedAndKeepsTheSlavesFile() throws Exception {
        TestSyncConfig fresh = new TestSyncConfig(work.resolve("other-slave"));
        write(fresh.portageDir.resolve("make.conf"), "CFLAGS=mine\n");
        config = fresh;

        PullResult refused = pull(daemon).pull();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome());
        assertTrue(refused.message().contains("make.conf as a file"), refused.message());
        assertEquals("CFLAGS=mine\n", Files.readString(fresh.portageDir.resolve("make.conf")));
        assertFalse(Files.exists(fresh.portageDir.resolve("package.use")));
    }

    @Test
    void pull_whenALiveDirectoryIsASymlink_isRefusedAndWritesNothingThroughIt() throws Exception {
        Path outside = work.resolve("outside");
        Files.createDirectories(outside);
        Files.createSymbolicLink(config.portageDir.resolve("package.env"), outside);
        write(master.resolve("package.env/01env"), "x nostrip\n");

        PullResult refused = pull(daemon).pull();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome());
        assertTrue(refused.message().contains("package.env"), refused.message());
        try (Stream<Path> s = Files.list(outside)) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void pull_whenALaterPullIsRefusedAfterStaging_theLinkedLiveFilesKeepTheirBytes() throws Exception {
        pull(daemon).pull();
        Path live = config.portageDir.resolve("make.conf/01master");
        // Applied by hard link: the live file and the staged one are one inode.
        assertEquals(2, Files.getAttribute(live, "unix:nlink"));
        Files.writeString(master.resolve("make.conf/01master"), "USE=\"sse sse2 avx\"\n");
        write(master.resolve("package.use/01more"), "x\n");
        // A refusal that leaves a staged tree within the limits, which stays for the next pull to reuse.
        write(master.resolve("package.use/01evil\u001b[31mred"), "x\n");

        PullResult refused = pull(daemon).pull();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome(), refused.message());
        // rsync staged the new bytes by renaming its own temp file; the live inode was never written.
        assertEquals("USE=\"sse sse2 avx\"\n", Files.readString(config.stagingDir.resolve("tree/make.conf/01master")));
        assertEquals("USE=\"sse\"\n", Files.readString(live));
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01more")));
    }

    @Test
    void pull_whenStagingIsOnAnotherFilesystem_copiesTheFilesInstead() throws Exception {
        Path shm = Path.of("/dev/shm");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm)
                && !Files.getFileStore(shm).equals(Files.getFileStore(work)),
                "needs /dev/shm on a filesystem other than the temp dir's");
        Path staging = Files.createTempDirectory(shm, "binhost-staging");
        try {
            config.stagingDir = staging;

            PullResult applied = pull(daemon).pull();

            assertEquals(PullResult.Outcome.APPLIED, applied.outcome(), applied.message());
            Path live = config.portageDir.resolve("make.conf/01master");
            assertEquals("USE=\"sse\"\n", Files.readString(live));
            assertEquals(1, Files.getAttribute(live, "unix:nlink"));
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(live)));
        } finally {
            ConfigPull.deleteTree(staging);
        }
    }

    @Test
    void pull_whenTheMasterIsNotListening_failsAndSaysSo() throws Exception {
        int port = daemon.port;
        daemon.close();
        PullResult failed = new ConfigPull(config, new ConfigPull.Source("127.0.0.1", port, "portage-config"),
                work.resolve("state"), RUNNER, Clock.systemUTC()).pull();
        assertEquals(PullResult.Outcome.FAILED, failed.outcome());
        assertTrue(failed.message().contains("Connection refused"), failed.message());
        daemon = RsyncDaemon.start(work, Map.of("portage-config", master));
    }

    @Test
    void rollback_afterAPull_restoresThePrevious01SetAndASecondRollbackRedoesThePull() throws Exception {
        pull(daemon).pull();
        Map<String, String> first = Snapshot.of(config.portageDir);
        Files.delete(master.resolve("package.use/01extra"));
        write(master.resolve("package.use/01new"), "new\n");
        Files.writeString(master.resolve("make.conf/01master"), "USE=\"sse sse2\"\n");
        pull(daemon).pull();
        Map<String, String> second = Snapshot.of(config.portageDir);

        RollbackResult back = pull(daemon).rollback();

        assertTrue(back.done(), back.message());
        assertEquals(first, Snapshot.of(config.portageDir));
        assertEquals(List.of("package.use/01extra"), back.changes().added());
        assertEquals(List.of("package.use/01new"), back.changes().removed());
        RollbackResult forth = pull(daemon).rollback();
        assertTrue(forth.done(), forth.message());
        assertEquals(second, Snapshot.of(config.portageDir));
    }

    @Test
    void rollback_withoutABackup_doesNothingAndSaysWhy() {
        RollbackResult none = pull(daemon).rollback();
        assertFalse(none.done());
        assertTrue(none.message().contains("no backup"), none.message());
    }

    @Test
    void pull_whenATreeSyncCommandIsSet_runsItAfterTheConfigPull() throws Exception {
        Path marker = work.resolve("tree-synced");
        config.treeSync = List.of("sh", "-c", "test -f '" + config.portageDir.resolve("package.use/01master")
                + "' && echo synced > '" + marker + "'");
        ConfigPull p = pull(daemon);
        assertTrue(p.pull().succeeded());
        var ran = p.syncTree().orElseThrow();
        assertTrue(ran.succeeded(), ran.summary());
        assertEquals("synced\n", Files.readString(marker));
    }

    @Test
    void pull_whenRsyncIsKilledMidTransfer_leavesTheLiveTreeUnchangedAndTheNextPullSucceeds() throws Exception {
        pull(daemon).pull();
        Map<String, String> before = Snapshot.of(config.portageDir);
        changeMasterAndAddABigFile();
        config.maxFileSize = "64M";
        try (RsyncDaemon slow = RsyncDaemon.start(work, Map.of("portage-config", master), "--bwlimit=500")) {
            CompletableFuture<PullResult> running = CompletableFuture.supplyAsync(() -> pullQuietly(slow));
            awaitPartialFile();
            ProcessHandle client = rsyncClient();
            client.destroyForcibly();

            PullResult killed = running.get(30, TimeUnit.SECONDS);

            assertEquals(PullResult.Outcome.FAILED, killed.outcome(), killed.message());
            assertEquals(before, Snapshot.of(config.portageDir));
        }
        PullResult next = pull(daemon).pull();
        assertEquals(PullResult.Outcome.APPLIED, next.outcome(), next.message());
        assertTrue(next.changes().added().contains("package.use/01big"));
    }

    @Test
    void pull_whenTheMasterFreezesMidTransfer_isKilledAtTheDeadlineAndLeavesTheLiveTreeUnchanged()
            throws Exception {
        pull(daemon).pull();
        Map<String, String> before = Snapshot.of(config.portageDir);
        changeMasterAndAddABigFile();
        config.maxFileSize = "64M";
        config.deadline = Duration.ofSeconds(4);
        config.ioTimeout = Duration.ofSeconds(600);
        JnrPosix posix = new JnrPosix();
        try (RsyncDaemon slow = RsyncDaemon.start(work, Map.of("portage-config", master), "--bwlimit=500")) {
            CompletableFuture<PullResult> running = CompletableFuture.supplyAsync(() -> pullQuietly(slow));
            awaitPartialFile();
            List<Long> senders = slow.children();
            senders.forEach(pid -> posix.kill(pid.intValue(), SIGSTOP));
            try {
                PullResult frozen = running.get(30, TimeUnit.SECONDS);
                assertEquals(PullResult.Outcome.TIMED_OUT, frozen.outcome(), frozen.message());
                assertEquals(before, Snapshot.of(config.portageDir));
            } finally {
                senders.forEach(pid -> posix.kill(pid.intValue(), SIGCONT));
            }
        }
        PullResult next = pull(daemon).pull();
        assertEquals(PullResult.Outcome.APPLIED, next.outcome(), next.message());
    }

    private void changeMasterAndAddABigFile() throws IOException {
        Files.writeString(master.resolve("package.use/01master"), "app-office/libreoffice -gtk -qt\n");
        Files.delete(master.resolve("package.use/01extra"));
        byte[] chunk = new byte[1 << 20];
        new Random(7).nextBytes(chunk);
        try (OutputStream out = Files.newOutputStream(master.resolve("package.use/01big"))) {
            for (int i = 0; i < 24; i++) {
                out.write(chunk);
            }
        }
    }

    private PullResult pullQuietly(RsyncDaemon from) {
        try {
            return pull(from).pull();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits until rsync has written part of the big file into its temp file in staging. */
    private void awaitPartialFile() throws Exception {
        Path dir = config.stagingDir.resolve("tree/package.use");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < until) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.anyMatch(p -> p.getFileName().toString().startsWith(".01big.") && size(p) > 0)) {
                        return;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("rsync never started writing the big file");
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The agent's rsync: a child of this JVM whose arguments name our staging dir. */
    private ProcessHandle rsyncClient() {
        String staging = config.stagingDir.toString();
        return ProcessHandle.current().descendants()
                .filter(h -> h.info().command().orElse("").endsWith("rsync"))
                .filter(h -> h.info().arguments().map(a -> List.of(a).stream().anyMatch(x -> x.startsWith(staging)))
                        .orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("agent's rsync not found"));
    }

    static void chmod(String mode, Path file) throws Exception {
        assertEquals(0, new ProcessBuilder("chmod", mode, file.toString()).start().waitFor());
    }

    static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }
}
