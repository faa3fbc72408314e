package dev.binhost.agent.check;

import dev.binhost.agent.portage.Finding;
import dev.binhost.agent.portage.MakeConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreflightTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures");
    static final Path SEED_MAKECONF = FIXTURES.resolve("portage/seed/make.conf");

    static String fixture(String name) throws Exception {
        return Files.readString(FIXTURES.resolve(name));
    }

    private static List<Finding> run(List<MakeConf.Source> makeConf, String cpuinfo, String mountinfo, int euid,
            List<String> missing) {
        return Preflight.run(new Preflight.Inputs(makeConf, true, cpuinfo, mountinfo, euid, missing));
    }

    private static List<Finding> about(List<Finding> findings, String topic, Finding.Level level) {
        return findings.stream().filter(f -> f.topic().equals(topic) && f.level() == level).toList();
    }

    @Test
    void check_seedConfigsOnTheSeedsSlaveCpu_warnsOnlyAboutTheMastersNativeMarch() throws Exception {
        List<Finding> f = run(MakeConf.read(SEED_MAKECONF), fixture("proc/cpuinfo-a9-9420"), "", 0, List.of());

        List<Finding> problems = f.stream().filter(x -> x.level() == Finding.Level.PROBLEM).toList();
        assertEquals(1, problems.size(), problems.toString());
        Finding march = problems.get(0);
        assertEquals("-march", march.topic());
        assertTrue(march.what().contains("3dnow 3dnowext"), march.what());
        assertFalse(march.what().contains("sse4a"), "the A9-9420 has sse4a: " + march.what());
        assertTrue(march.change().contains("replace -march=native"), march.change());
        // The A9 has bmi1/bmi2/rdrand that 02slave does not list: advice with the exact line to paste.
        Finding unused = about(f, "CPU_FLAGS_X86", Finding.Level.ADVICE).get(0);
        assertTrue(unused.what().contains("bmi1 bmi2 rdrand"), unused.what());
        assertTrue(unused.change().contains("in make.conf/02slave"), unused.change());
    }

    @Test
    void check_seedSlaveFlagsOnACpuWithoutFma4_saysWhichFlagsToRemove() throws Exception {
        List<Finding> f = run(MakeConf.read(SEED_MAKECONF), fixture("proc/cpuinfo-xeon-avx512"), "", 0, List.of());

        Finding lacking = about(f, "CPU_FLAGS_X86", Finding.Level.PROBLEM).get(0);
        assertTrue(lacking.what().startsWith("CPU_FLAGS_X86 (from make.conf/02slave) lists fma4 sse4a xop,"),
                lacking.what());
        assertTrue(lacking.change().startsWith("set CPU_FLAGS_X86=\"aes avx avx2 avx512_bf16"), lacking.change());
        assertFalse(lacking.change().contains("fma4"), lacking.change());
        assertTrue(lacking.change().contains(" mmxext "), "SSE implies mmxext: " + lacking.change());
    }

    @Test
    void check_chostSetInSlaveFile_isAProblemNamingTheFileAndLine() throws Exception {
        List<MakeConf.Source> conf = new ArrayList<>(MakeConf.read(SEED_MAKECONF));
        conf.add(new MakeConf.Source("make.conf/02slave-chost", "# wrong\nCHOST=\"i686-pc-linux-gnu\"\n"));
        List<Finding> f = run(conf, fixture("proc/cpuinfo-a9-9420"), "", 0, List.of());

        Finding chost = about(f, "CHOST", Finding.Level.PROBLEM).get(0);
        assertEquals("make.conf/02slave-chost line 2 sets CHOST=\"i686-pc-linux-gnu\"; master and slave must have "
                + "the same CHOST", chost.what());
        assertEquals("remove CHOST from make.conf/02slave-chost and keep the master's", chost.change());
        assertTrue(about(run(MakeConf.read(SEED_MAKECONF), fixture("proc/cpuinfo-a9-9420"), "", 0, List.of()),
                "CHOST", Finding.Level.PROBLEM).isEmpty());
    }

    @Test
    void check_distdirOnTheMastersReadOnlyShare_saysToSetALocalDistdir() throws Exception {
        List<MakeConf.Source> conf = new ArrayList<>(MakeConf.read(SEED_MAKECONF));
        conf.add(0, new MakeConf.Source("make.conf/01paths",
                "PORTDIR=\"/tmp/opsfx/share\"\nDISTDIR=\"${PORTDIR}/distfiles\"\n"));
        List<Finding> f = run(conf, fixture("proc/cpuinfo-a9-9420"), fixture("proc/mountinfo-ro-share"), 0, List.of());

        Finding ro = about(f, "DISTDIR", Finding.Level.PROBLEM).get(0);
        assertEquals("DISTDIR /tmp/opsfx/share/distfiles is on the read-only ext4 mount /tmp/opsfx/share (/dev/vda); "
                + "emerge cannot save downloads there", ro.what());
        assertTrue(ro.change().startsWith("set DISTDIR=\"/var/cache/distfiles\""), ro.change());
        assertTrue(about(f, "DISTDIR", Finding.Level.ADVICE).get(0).what().contains("from the master's make.conf/01paths"));
    }

    @Test
    void check_slaveOverridesDistdir_noDistdirFinding() throws Exception {
        List<MakeConf.Source> conf = new ArrayList<>(MakeConf.read(SEED_MAKECONF));
        conf.add(0, new MakeConf.Source("make.conf/01paths", "DISTDIR=\"/tmp/opsfx/share/distfiles\"\n"));
        conf.add(new MakeConf.Source("make.conf/03local", "DISTDIR=\"/var/cache/distfiles\"\n"));
        List<Finding> f = run(conf, fixture("proc/cpuinfo-a9-9420"), fixture("proc/mountinfo-ro-share"), 0, List.of());
        assertTrue(f.stream().noneMatch(x -> x.topic().equals("DISTDIR")), f.toString());
    }

    @Test
    void check_unreadableMountinfo_isAProblemAndTheRestIsStillChecked() throws Exception {
        List<Finding> f = run(MakeConf.read(SEED_MAKECONF), fixture("proc/cpuinfo-a9-9420"),
                fixture("proc/mountinfo-truncated"), 0, List.of());
        Finding mountinfo = about(f, "mountinfo", Finding.Level.PROBLEM).get(0);
        assertTrue(mountinfo.what().startsWith("DISTDIR and PKGDIR were not checked: mountinfo line 2"),
                mountinfo.what());
        assertEquals(1, about(f, "-march", Finding.Level.PROBLEM).size(), f.toString());
    }

    @Test
    void check_missingToolsAndNotRoot_eachSayWhatToInstallOrDo() throws Exception {
        List<Finding> f = run(MakeConf.read(SEED_MAKECONF), fixture("proc/cpuinfo-a9-9420"), "", 1000,
                List.of("rsync", "mount.nfs"));
        List<Finding> tools = about(f, "tools", Finding.Level.PROBLEM);
        assertEquals(List.of("emerge --ask net-misc/rsync", "emerge --ask net-fs/nfs-utils"),
                tools.stream().map(Finding::change).toList());
        assertEquals("not running as root (uid 1000)", about(f, "user", Finding.Level.PROBLEM).get(0).what());
    }

    @Test
    void check_noMasterFilesYet_saysThePullHasNotHappened() throws Exception {
        List<MakeConf.Source> onlySlave = MakeConf.read(SEED_MAKECONF).stream()
                .filter(s -> s.name().endsWith("02slave")).toList();
        List<Finding> f = run(onlySlave, fixture("proc/cpuinfo-a9-9420"), "", 0, List.of());
        assertTrue(about(f, "make.conf", Finding.Level.PROBLEM).get(0).what().startsWith("no make.conf/01* file"));
    }

    @Test
    void missingTools_findsExecutablesInTheGivenDirectories(@TempDir Path dir) throws Exception {
        Path tool = Files.writeString(dir.resolve("rsync"), "#!/bin/sh\n");
        tool.toFile().setExecutable(true);
        Files.writeString(dir.resolve("mount.nfs"), "not executable");
        assertEquals(List.of("mount.nfs"), Preflight.missingTools(List.of("rsync", "mount.nfs"), List.of(dir)));
    }
}
