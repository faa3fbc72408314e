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
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;

import static dev.binhost.agent.sync.ConfigPullTest.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a hostile or careless master can hand the pull (issue 16), against a real rsync daemon on loopback. */
class HostileMasterTest {
    @TempDir
    Path work;
    Path master;
    RsyncDaemon daemon;
    TestSyncConfig config;

    @BeforeEach
    void setUp() throws Exception {
        master = work.resolve("master/etc/portage");
        write(master.resolve("package.use/01master"), "app-office/libreoffice -gtk\n");
        write(master.resolve("make.conf/01master"), "CFLAGS=\"-O2 -pipe\"\n");
        daemon = RsyncDaemon.start(work, Map.of("portage-config", master));
        config = new TestSyncConfig(work.resolve("slave"));
        write(config.portageDir.resolve("package.use/02slave"), "app-office/libreoffice -bluetooth\n");
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        daemon.close();
    }

    ConfigPull pull(ProcessRunner runner) {
        return new ConfigPull(config, new ConfigPull.Source("127.0.0.1", daemon.port, "portage-config"),
                work.resolve("state"), runner, Clock.systemUTC());
    }

    PullResult pullOnce() throws InterruptedException {
        return pull(ConfigPullTest.RUNNER).pull();
    }

    @Test
    void pull_whenA9MBFileHidesBehind2000SymlinkSkipLines_isRefusedAndKeepsTheLiveFile() throws Exception {
        write(master.resolve("package.use/01big"), "small\n");
        assertEquals(PullResult.Outcome.APPLIED, pullOnce().outcome());
        writeBytes(master.resolve("package.use/01big"), 9 << 20);
        for (int i = 0; i < 2000; i++) {
            Files.createSymbolicLink(master.resolve("package.use/01link-with-a-rather-long-name-to-fill-the-tail-" + i),
                    Path.of("/etc/hostname"));
        }

        PullResult refused = pullOnce();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome(), refused.message());
        assertTrue(refused.message().contains("package.use/01big"), refused.message());
        assertTrue(refused.message().contains("binhost.sync.max-file-size"), refused.message());
        assertEquals("small\n", Files.readString(config.portageDir.resolve("package.use/01big")));
    }

    @Test
    void pull_withNoOutputTail_stillRefusesAnOversizeFileAndCleansItFromStaging() throws Exception {
        writeBytes(master.resolve("package.use/01big"), 9 << 20);
        ProcessRunner noTail = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1), 0);

        PullResult refused = pull(noTail).pull();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome(), refused.message());
        assertTrue(refused.message().contains("package.use/01big"), refused.message());
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01big")));
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01master")), "nothing applied");
        assertTrue(stagedBytes() < (1 << 20), "the refused 9 MB must not stay in staging: " + stagedBytes());
    }

    @Test
    void pull_whenTheWholeTreeIsOverTheTotalBound_isRefusedNamingTheKey() throws Exception {
        config.maxTotalSize = "16K";
        for (int i = 0; i < 4; i++) {
            writeBytes(master.resolve("package.use/01part" + i), 5000);
        }

        PullResult refused = pullOnce();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome(), refused.message());
        assertTrue(refused.message().contains("binhost.sync.max-total-size (16384)"), refused.message());
        assertFalse(Files.exists(config.portageDir.resolve("package.use/01master")));
        assertTrue(stagedBytes() < 16 << 10, "refused content is cleaned from staging");
    }

    @Test
    void pull_whenAMasterNameHoldsAnEscapeSequenceOrANewline_isRefusedNamingItEscaped() throws Exception {
        assertEquals(PullResult.Outcome.APPLIED, pullOnce().outcome());
        Map<String, String> before = Snapshot.of(config.portageDir);
        write(master.resolve("package.use/01evil\u001b[31mred"), "x\n");
        write(master.resolve("package.use/01two\nlines"), "y\n");

        PullResult refused = pullOnce();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome(), refused.message());
        assertTrue(refused.message().contains("package.use/01evil\\x1b[31mred"), refused.message());
        assertTrue(refused.message().contains("package.use/01two\\x0alines"), refused.message());
        assertTrue(refused.message().chars().noneMatch(c -> c < 0x20 || c == 0x7f), refused.message());
        assertEquals(before, Snapshot.of(config.portageDir));
    }

    @Test
    void pull_whenAMasterNameIsNotUtf8_isRefusedNamingItsBytes() throws Exception {
        assertEquals(PullResult.Outcome.APPLIED, pullOnce().outcome());
        Map<String, String> before = Snapshot.of(config.portageDir);
        // "01café" in Latin-1: the byte 0xe9 is not UTF-8, and Java cannot name the file as a String.
        sh("printf 'x\\n' > \"$(printf 'package.use/01caf\\351')\"", master);

        PullResult refused = pullOnce();

        assertEquals(PullResult.Outcome.REFUSED, refused.outcome(), refused.message());
        assertTrue(refused.message().contains("package.use/01caf\\xe9"), refused.message());
        assertEquals(before, Snapshot.of(config.portageDir));
    }

    @Test
    void pull_underTheCLocale_refusesANonAsciiNameByItsBytesInsteadOfThrowing() throws Exception {
        assertEquals(PullResult.Outcome.APPLIED, pullOnce().outcome());
        Map<String, String> before = Snapshot.of(config.portageDir);
        sh("printf 'x\\n' > \"$(printf 'package.use/01caf\\303\\251')\"", master);
        Path out = work.resolve("child.out");
        ProcessBuilder child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CLocalePull.class.getName(), work.toString(),
                String.valueOf(daemon.port)).redirectErrorStream(true).redirectOutput(out.toFile());
        child.environment().keySet().removeIf(k -> k.startsWith("LC_") || k.equals("LANG"));
        child.environment().put("LC_ALL", "C");
        Process p = child.start();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the child JVM did not end");
        String text = Files.readString(out);
        org.junit.jupiter.api.Assumptions.assumeFalse(text.contains("jnu=UTF-8"), "this JVM ignores LC_ALL=C");

        assertEquals(0, p.exitValue(), text);
        assertTrue(text.contains("outcome=REFUSED"), text);
        assertTrue(text.contains("package.use/01caf\\xc3\\xa9"), text);
        assertEquals(before, Snapshot.of(config.portageDir));
    }

    @Test
    void pull_whenANameHoldsABackslash_appliesItAndShowsItEscaped() throws Exception {
        write(master.resolve("package.use/01back\\slash"), "x\n");

        PullResult applied = pullOnce();

        assertEquals(PullResult.Outcome.APPLIED, applied.outcome(), applied.message());
        assertTrue(applied.message().contains("package.use/01back\\x5cslash"), applied.message());
        assertEquals("x\n", Files.readString(config.portageDir.resolve("package.use/01back\\slash")));
    }

    @Test
    void pull_whenTheMasterEditsAFileInTheSameSecondWithTheSameSize_appliesTheEdit() throws Exception {
        Path file = master.resolve("make.conf/01master");
        assertEquals(PullResult.Outcome.APPLIED, pullOnce().outcome());
        FileTime mtime = Files.getLastModifiedTime(file);
        Files.writeString(file, "CFLAGS=\"-O3 -pipe\"\n");
        Files.setLastModifiedTime(file, mtime);

        PullResult second = pullOnce();

        assertEquals(PullResult.Outcome.APPLIED, second.outcome(), second.message());
        assertEquals(java.util.List.of("make.conf/01master"), second.changes().changed());
        assertEquals("CFLAGS=\"-O3 -pipe\"\n", Files.readString(config.portageDir.resolve("make.conf/01master")));
    }

    private long stagedBytes() throws IOException {
        if (!Files.exists(config.stagingDir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(config.stagingDir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    static void writeBytes(Path file, int size) throws IOException {
        Files.createDirectories(file.getParent());
        byte[] chunk = new byte[8192];
        java.util.Arrays.fill(chunk, (byte) 'x');
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int left = size; left > 0; left -= chunk.length) {
                out.write(chunk, 0, Math.min(left, chunk.length));
            }
        }
    }

    static void sh(String script, Path dir) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", script).directory(dir.toFile()).inheritIO().start();
        assertEquals(0, p.waitFor());
    }
}
