package dev.binhost.agent.mount;

import dev.binhost.agent.portage.Finding;
import dev.binhost.agent.portage.Finding.Level;
import dev.binhost.agent.portage.MakeConf;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one DISTDIR/PKGDIR preflight; {@code binhost-agent check}'s own tests show it is the one check uses. */
class PortageDirsTest {
    private final MountTable wholeTree = MountTable.parse(Fixtures.text("proc/mountinfo-whole-tree-nfs"));
    private final MountTable pkgdirOnly = MountTable.parse(Fixtures.text("proc/mountinfo-pkgdir-only"));

    /** The slave's own files 02x, 03x, …: nothing comes from the master. */
    private static MakeConf.Evaluation conf(String... files) {
        List<MakeConf.Source> sources = new java.util.ArrayList<>();
        for (int i = 0; i < files.length; i++) {
            sources.add(new MakeConf.Source("make.conf/0" + (i + 2) + "x", files[i]));
        }
        return MakeConf.evaluate(sources);
    }

    private static List<Finding> about(List<Finding> findings, String topic) {
        return findings.stream().filter(f -> f.topic().equals(topic)).toList();
    }

    @Test
    void check_seedSlaveWithoutLocalDistdir_reportsDistdirInsideTheReadOnlyNfsTree() throws Exception {
        List<Finding> f = PortageDirs.check(MakeConf.load(Fixtures.path("make.conf/seed-slave/make.conf")),
                wholeTree, Map.of());
        Finding distdir = about(f, "DISTDIR").get(0);
        assertEquals(Level.PROBLEM, distdir.level());
        assertEquals("DISTDIR /usr/portage/distfiles is on the read-only nfs4 mount /usr/portage (acer:/portage); "
                + "emerge cannot save downloads there", distdir.what());
        assertEquals("set DISTDIR=\"/var/cache/distfiles\" (a local, writable directory) in make.conf/02slave",
                distdir.change());
        assertTrue(about(f, "DISTDIR").get(1).what().contains("from the master's make.conf/01master"),
                about(f, "DISTDIR").toString());
        assertTrue(about(f, "PKGDIR").isEmpty(), "PKGDIR on the share is fine: the slave does not buildpkg");
    }

    @Test
    void check_slaveWithLocalDistdir_isClean() throws Exception {
        MakeConf.Evaluation fixed = MakeConf.load(Fixtures.path("make.conf/fixed-slave/make.conf"));
        assertEquals("/var/cache/distfiles-local", fixed.get("DISTDIR"));
        assertTrue(PortageDirs.check(fixed, wholeTree, Map.of()).isEmpty());
    }

    @Test
    void check_pkgdirOnTheShareWithBuildpkg_isAProblem_unlessALaterFileTakesBuildpkgBack() {
        List<Finding> f = PortageDirs.check(conf("PKGDIR=/var/cache/binpkgs\nFEATURES=\"userpriv buildpkg\"\n"),
                pkgdirOnly, Map.of());
        Finding pkgdir = about(f, "PKGDIR").get(0);
        assertEquals(Level.PROBLEM, pkgdir.level());
        assertTrue(pkgdir.what().startsWith("PKGDIR /var/cache/binpkgs is on the read-only nfs4 mount "
                + "/var/cache/binpkgs (master:/var/cache/binpkgs) and FEATURES contains buildpkg"), pkgdir.what());
        assertTrue(about(f, "DISTDIR").isEmpty(), "the default DISTDIR is a local bind mount: " + f);

        assertTrue(PortageDirs.check(conf("FEATURES=\"userpriv buildpkg\"\n", "FEATURES=\"${FEATURES} -buildpkg\"\n"),
                pkgdirOnly, Map.of()).isEmpty(), "FEATURES is incremental");
    }

    @Test
    void check_defaultsOnTheShare_sayTheValueIsPortagesDefault() {
        MountTable distShare = MountTable.parse("26 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw\n"
                + "40 26 0:41 / /var/cache ro,relatime - nfs4 master:/var/cache ro\n");
        List<Finding> f = PortageDirs.check(conf("FEATURES=buildpkg\n"), distShare, Map.of());
        assertTrue(about(f, "DISTDIR").get(0).what().startsWith("DISTDIR /var/cache/distfiles (Portage default) is on"),
                f.toString());
        assertTrue(about(f, "PKGDIR").get(0).what().startsWith("PKGDIR /var/cache/binpkgs (Portage default) is on"),
                f.toString());
    }

    @Test
    void check_agentManagedTargetNotMountedNow_stillCountsAsReadOnly() {
        MountTable rootOnly = MountTable.parse("26 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw\n");
        Map<String, MountConfig.MountSpec> specs = Map.of(
                "portage", new TestSpec(Path.of("/usr/portage"), false, "acer:/portage", null, null),
                "scratch", new TestSpec(Path.of("/var/tmp/scratch"), false, "/srv/x", "none", "bind"));
        assertEquals(Map.of("portage", Path.of("/usr/portage")), PortageDirs.readOnlyTargets(specs),
                "nfs4 defaults to ro; a rw bind mount is not a read-only share");
        List<Finding> f = PortageDirs.check(conf("DISTDIR=/usr/portage/distfiles\n"), rootOnly,
                PortageDirs.readOnlyTargets(specs));
        Finding distdir = about(f, "DISTDIR").get(0);
        assertEquals(Level.PROBLEM, distdir.level());
        assertTrue(distdir.what().contains("the agent's read-only mount 'portage' at /usr/portage"), distdir.what());
        assertTrue(PortageDirs.check(conf("DISTDIR=/var/tmp/scratch/d\n"), rootOnly,
                PortageDirs.readOnlyTargets(specs)).isEmpty());
    }

    @Test
    void check_distdirOnAWritableNfsShare_isAdvice() {
        MountTable rwNfs = MountTable.parse("26 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw\n"
                + "40 26 0:41 / /srv/share rw,relatime - nfs4 master:/share rw\n");
        List<Finding> f = PortageDirs.check(conf("DISTDIR=/srv/share/distfiles\n"), rwNfs, Map.of());
        assertEquals(List.of(Level.ADVICE), about(f, "DISTDIR").stream().map(Finding::level).toList(), f.toString());
        assertTrue(about(f, "DISTDIR").get(0).what().contains("NFS share /srv/share"), f.toString());
    }

    @Test
    void check_relativeDirectories_areProblems() {
        List<Finding> f = PortageDirs.check(conf("DISTDIR=distfiles\nPKGDIR=./pkgs\n"), pkgdirOnly, Map.of());
        assertEquals("DISTDIR must be an absolute path, is distfiles", about(f, "DISTDIR").get(0).what());
        assertEquals("PKGDIR must be an absolute path, is ./pkgs", about(f, "PKGDIR").get(0).what());
        assertTrue(f.stream().allMatch(x -> x.level() == Level.PROBLEM), f.toString());
    }

    @Test
    void buildsPackages_readsFeaturesIncrementally() {
        assertTrue(PortageDirs.buildsPackages(" userpriv  buildpkg"));
        assertFalse(PortageDirs.buildsPackages("buildpkg -buildpkg"));
        assertFalse(PortageDirs.buildsPackages("buildpkg -*"));
        assertTrue(PortageDirs.buildsPackages("-* buildpkg"));
        assertFalse(PortageDirs.buildsPackages("buildpkg-live getbinpkg"));
    }
}
