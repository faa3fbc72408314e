package dev.binhost.agent.portage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The readers of emerge.log, /var/db/pkg and mtimedb on real recorded files and on what goes wrong with files. */
class PortageRecordFilesTest {
    private static final Path SESSIONS = Paths.get("src/test/resources/fixtures/records/sessions");
    private static final Path RECORDS = Paths.get("src/test/resources/fixtures/records");

    @TempDir
    Path dir;

    @Test
    void emergeLog_fromAnOffset_readsOnlyTheSessionsAfterIt_andStopsAtTheLastWholeLine() throws IOException {
        Path log = dir.resolve("emerge.log");
        Files.copy(SESSIONS.resolve("slave-allbinary-merge.emerge.log"), log);
        long offset = EmergeLog.end(log);
        byte[] failing = Files.readAllBytes(SESSIONS.resolve("slave-fail-merge.emerge.log"));
        // the run's lines, the last one half-written (emerge still writing it)
        Files.write(log, java.util.Arrays.copyOf(failing, failing.length - 5), StandardOpenOption.APPEND);

        EmergeLog.Read read = EmergeLog.read(log, offset);
        assertEquals(1, read.sessions().size());
        EmergeLog.Session s = read.last().orElseThrow();
        assertEquals(6, s.packages().size());
        assertEquals(5, s.completedFrom(EmergeLog.Source.BINARY));
        assertEquals(List.of("app-misc/demo-broken-1.0"), s.unfinished().stream().map(EmergeLog.Package::cpv).toList());
        assertEquals(EmergeLog.Source.BUILT, s.unfinished().get(0).source());
        assertEquals(1, s.exitStatus().orElseThrow());
        assertFalse(s.terminated(), "the half-written '*** terminating.' line is not read");
        assertTrue(read.end() < Files.size(log));
        assertFalse(read.rotated());
    }

    @Test
    void emergeLog_shorterThanTheOffset_wasRotated_andIsReadFromItsStart() throws IOException {
        Path log = dir.resolve("emerge.log");
        Files.copy(SESSIONS.resolve("slave-mixed-merge.emerge.log"), log);
        EmergeLog.Read read = EmergeLog.read(log, 1 << 20);
        assertTrue(read.rotated());
        assertEquals(10, read.last().orElseThrow().completed().size());
        assertEquals(0, EmergeLog.read(dir.resolve("none"), 0).sessions().size(), "no log: nothing read");
    }

    @Test
    void emergeLog_parallelJobs_interleavedLines_eachPackageByName() throws IOException {
        EmergeLog.Session s = EmergeLog.read(RECORDS.resolve("01-mixed-jobs2-cli/emerge.log"), 0).last().orElseThrow();
        assertTrue(s.arguments().contains("--jobs=2"), s.arguments());
        assertEquals(7, s.completedFrom(EmergeLog.Source.BINARY));
        assertEquals(3, s.completedFrom(EmergeLog.Source.BUILT));
        assertEquals(0, s.exitStatus().orElseThrow());
        assertTrue(s.terminated());
    }

    @Test
    void installedDb_mergedAfterTheMark_includesAReinstall_andSkipsAMergeInProgress() throws IOException {
        Path vdb = dir.resolve("pkg");
        entry(vdb, "dev-libs/libdemo-1.2.3", "4");
        entry(vdb, "sys-apps/demo-baselayout-2.14", "0");
        long mark = InstalledDb.read(vdb).highestCounter();
        assertEquals(4, mark);
        entry(vdb, "dev-libs/libdemo-1.2.3", "5");       // reinstalled, same version
        entry(vdb, "app-misc/demo-cli-2.0", "6");
        entry(vdb, "app-misc/-MERGING-demo-edit-0.9", "7");
        Files.writeString(vdb.resolve("app-misc/demo-cli-2.0/BUILD_ID"), "2\n");
        InstalledDb after = InstalledDb.read(vdb);
        assertEquals(List.of("dev-libs/libdemo-1.2.3", "app-misc/demo-cli-2.0"),
                after.mergedAfter(mark).stream().map(InstalledDb.Entry::cpv).toList());
        assertEquals(2, after.get("app-misc/demo-cli-2.0").orElseThrow().buildId().getAsInt());
        assertEquals(-1, InstalledDb.read(dir.resolve("none")).highestCounter(), "empty: the first merge gets 0");
    }

    @Test
    void installedDb_aCounterThatIsNotANumber_isNoMerge() throws IOException {
        Path vdb = dir.resolve("pkg");
        entry(vdb, "dev-libs/libdemo-1.2.3", "garbage");
        assertTrue(InstalledDb.read(vdb).get("dev-libs/libdemo-1.2.3").orElseThrow().counter().isEmpty());
        assertEquals(List.of(), InstalledDb.read(vdb).mergedAfter(-1));
    }

    @Test
    void mtimedb_resumeList_ofAFailedRun_andErrorsNameTheFile() throws IOException {
        Path m = dir.resolve("mtimedb");
        Files.writeString(m, """
                {"resume": {"mergelist": [["ebuild", "/", "app-misc/demo-broken-1.0", "merge"],
                  ["binary", "/", "app-misc/demo-cli-2.0", "merge"], ["installed", "/", "x/y-1", "nomerge"]],
                  "myopts": {"--usepkg": true}}, "version": "HEAD"}""");
        assertEquals(List.of(new MtimeDb.Pending("ebuild", "/", "app-misc/demo-broken-1.0", "merge"),
                new MtimeDb.Pending("binary", "/", "app-misc/demo-cli-2.0", "merge")), MtimeDb.resumeList(m));
        assertEquals(List.of(), MtimeDb.resumeList(RECORDS.resolve("01-mixed-jobs2-cli/mtimedb")),
                "a finished run leaves no resume list");
        Files.writeString(m, "{\"resume\": [");
        IOException e = assertThrows(IOException.class, () -> MtimeDb.resumeList(m));
        assertTrue(e.getMessage().contains(m.toString()) && e.getMessage().contains("not JSON"), e.getMessage());
        assertEquals(List.of(), MtimeDb.resumeList(dir.resolve("none")));
    }

    private static void entry(Path vdb, String cpv, String counter) throws IOException {
        Path d = vdb.resolve(cpv);
        Files.createDirectories(d);
        Files.writeString(d.resolve("COUNTER"), counter + "\n");
    }
}
