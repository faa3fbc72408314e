package dev.binhost.agent.sync;

import dev.binhost.agent.testing.RsyncDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.binhost.agent.sync.ConfigPullTest.write;
import static dev.binhost.agent.sync.HostileMasterTest.writeBytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Staging is bounded (issue 11 item 12): room is checked before rsync starts, the staged total is watched while it
 * runs, and a pull that did not apply leaves nothing over the limits behind. Against a real rsync daemon on
 * loopback.
 */
class StagingBoundsTest {
    @TempDir
    Path work;
    Path master;
    RsyncDaemon daemon;
    TestSyncConfig config;

    @BeforeEach
    void setUp() throws Exception {
        master = work.resolve("master/etc/portage");
        write(master.resolve("package.use/01master"), "app-office/libreoffice -gtk\n");
        daemon = RsyncDaemon.start(work, Map.of("portage-config", master));
        config = new TestSyncConfig(work.resolve("slave"));
        write(config.portageDir.resolve("package.use/02slave"), "app-office/libreoffice -bluetooth\n");
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        daemon.close();
    }

    ConfigPull pull() {
        return new ConfigPull(config, new ConfigPull.Source("127.0.0.1", daemon.port, "portage-config"),
                work.resolve("state"), ConfigPullTest.RUNNER, Clock.systemUTC());
    }

    Staging.Measure staged() throws Exception {
        return Staging.measure(config.stagingDir.resolve("tree"));
    }

    @Test
    void pull_whenManyFilesUnderThePerFileLimitPassTheTotalWhileRsyncRuns_stopsRsyncAndEmptiesStaging()
            throws Exception {
        assertEquals(PullResult.Outcome.APPLIED, pull().pull().outcome());
        Map<String, String> before = Snapshot.of(config.portageDir);
        config.maxTotalSize = "1M";
        // 40 files of 256 KiB, each far under max-file-size (8M), 10 MiB in all; rsync slowed to 2 MB/s so the
        // watch sees the total pass 1 MiB long before rsync could finish.
        for (int i = 0; i < 40; i++) {
            writeBytes(master.resolve(String.format("package.use/01part%02d", i)), 256 << 10);
        }
        config.rsyncCommand = List.of("rsync", "--bwlimit=2000");

        PullResult r = pull().pull();

        assertEquals(PullResult.Outcome.REFUSED, r.outcome(), r.message());
        assertTrue(r.message().contains("while rsync ran"), "stopped by the watch, not after rsync: " + r.message());
        assertTrue(r.message().contains("binhost.sync.max-total-size (1048576)"), r.message());
        assertEquals(0, staged().bytes(), "the stopped transfer is removed from staging");
        assertTrue(Files.exists(config.stagingDir), "the staging root (with its marker) stays");
        assertEquals(before, Snapshot.of(config.portageDir), "live tree untouched");

        config.maxTotalSize = "64M";
        config.rsyncCommand = List.of("rsync");
        PullResult next = pull().pull();
        assertEquals(PullResult.Outcome.APPLIED, next.outcome(), "the next pull starts from an empty staging: "
                + next.message());
        assertEquals(41, staged().files(), "a good staged tree stays for the next pull's rsync");
    }

    @Test
    void pull_whenTheMastersFileCountPassesMaxFilesWhileRsyncRuns_stopsRsyncAndEmptiesStaging() throws Exception {
        config.maxFiles = 50;
        // 1000 files of 2 KiB, slowed to 200 KB/s: 10 s for all, the 51st file comes after a quarter of a second.
        for (int i = 0; i < 1000; i++) {
            writeBytes(master.resolve(String.format("package.use/01f%04d", i)), 2048);
        }
        config.rsyncCommand = List.of("rsync", "--bwlimit=200");

        PullResult r = pull().pull();

        assertEquals(PullResult.Outcome.REFUSED, r.outcome(), r.message());
        assertTrue(r.message().contains("while rsync ran"), r.message());
        assertTrue(r.message().contains("binhost.sync.max-files (50)"), r.message());
        assertEquals(0, staged().files(), "the stopped transfer is removed from staging");
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01master")), "live tree untouched");
    }

    @Test
    void pull_whenOneMasterFileIsLargerThanTheTotal_rsyncCannotWriteItPastTheTotal() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit"))
                || Files.isExecutable(Path.of("/bin/prlimit")), "needs util-linux prlimit");
        config.maxTotalSize = "1M";
        config.maxFileSize = "512K";
        // Full speed on loopback: the watch may never see it; the file-size rlimit stops the write at 1 MiB.
        writeBytes(master.resolve("package.use/01huge"), 3 << 20);

        PullResult r = pull().pull();

        assertEquals(PullResult.Outcome.FAILED, r.outcome(), r.message());
        assertTrue(r.message().contains("exited 11"), r.message());
        assertTrue(r.message().contains("no file larger than binhost.sync.max-total-size, 1048576 bytes"),
                r.message());
        assertEquals(0, staged().bytes(), "nothing of it stays in staging");
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01master")), "live tree untouched");
    }

    @Test
    void pull_whenTheDeadlineCutsATransferUnderTheLimits_keepsTheBoundedPartialTreeForReuse() throws Exception {
        for (int i = 0; i < 20; i++) {
            writeBytes(master.resolve(String.format("package.use/01part%02d", i)), 256 << 10);
        }
        config.rsyncCommand = List.of("rsync", "--bwlimit=1000");
        config.deadline = Duration.ofSeconds(2);

        PullResult r = pull().pull();

        assertEquals(PullResult.Outcome.TIMED_OUT, r.outcome(), r.message());
        Staging.Measure m = staged();
        assertTrue(m.bytes() > 0, "rsync had staged part of the tree: " + m);
        assertTrue(m.within(config.maxFileBytes(), config.maxTotalBytes(), config.maxFiles()), m.toString());
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01master")), "live tree untouched");
    }

    @Test
    void pull_whenTheStagingFilesystemHasLessRoomThanTwiceTheTotal_isRefusedBeforeRsyncNamingTheFigures()
            throws Exception {
        ConfigPull p = pull();
        long[] asked = {0};
        p.freeSpace = dir -> {
            asked[0]++;
            return new Staging.Space("/etc (/dev/small)", 100L << 20);
        };

        PullResult r = p.pull();

        assertEquals(PullResult.Outcome.REFUSED, r.outcome(), r.message());
        assertTrue(r.message().contains("/etc (/dev/small)"), r.message());
        assertTrue(r.message().contains("100.0 MiB (104857600 bytes) available"), r.message());
        assertTrue(r.message().contains("128.0 MiB"), r.message());
        assertTrue(r.message().contains("rsync not started"), r.message());
        assertEquals(0, staged().files(), "nothing was staged");
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01master")));
        assertEquals(1, asked[0], "the staging filesystem was asked; the live one is the same");
    }

    @Test
    void noRoom_decidesOnTheStagingFilesystem_andOnTheLiveOneWhenTheApplyMustCopy() throws Exception {
        Path staging = work.resolve("staging");
        Path live = work.resolve("live/etc/portage");
        Files.createDirectories(staging);
        long max = 64L << 20;
        Staging.FreeSpace same = dir -> new Staging.Space("/ (/dev/vda)", 2 * max);
        assertEquals(Optional.empty(), Staging.noRoom(same, staging, live, max), "exactly twice the total is room");
        Staging.FreeSpace tight = dir -> new Staging.Space("/ (/dev/vda)", 2 * max - 1);
        assertTrue(Staging.noRoom(tight, staging, live, max).isPresent());

        Staging.FreeSpace apart = dir -> dir.startsWith(staging) ? new Staging.Space("/var (/dev/b)", 1L << 40)
                : new Staging.Space("/ (/dev/a)", max - 1);
        Optional<String> why = Staging.noRoom(apart, staging, live, max);
        assertTrue(why.isPresent() && why.get().contains("/ (/dev/a)") && why.get().contains("portage dir"),
                String.valueOf(why));
    }

    @Test
    void realFreeSpace_namesTheFilesystemAndItsAvailableBytes() throws Exception {
        Staging.Space s = Staging.FreeSpace.REAL.of(work);
        assertFalse(s.filesystem().isBlank());
        assertTrue(s.available() > 0, s.toString());
        assertEquals(Optional.empty(), Staging.noRoom(Staging.FreeSpace.REAL, work, work, 1),
                "one byte always fits on the test's filesystem");
    }
}
