package dev.binhost.agent.mount;

import dev.binhost.agent.mount.Preflight.Finding;
import dev.binhost.agent.mount.Preflight.Severity;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreflightTest {
    private final MountTable wholeTree = MountTable.parse(Fixtures.text("proc/mountinfo-whole-tree-nfs"));
    private final MountTable pkgdirOnly = MountTable.parse(Fixtures.text("proc/mountinfo-pkgdir-only"));

    private static Finding finding(List<Finding> findings, String var) {
        return findings.stream().filter(f -> f.variable().equals(var)).findFirst().orElseThrow();
    }

    @Test
    void check_seedSlaveWithoutLocalDistdir_reportsDistdirInsideTheReadOnlyTree() throws Exception {
        List<Finding> f = Preflight.check(MakeConf.load(Fixtures.path("make.conf/seed-slave/make.conf")), wholeTree,
                Map.of());
        Finding distdir = finding(f, "DISTDIR");
        assertEquals(Severity.ERROR, distdir.severity());
        assertTrue(distdir.message().contains("/usr/portage"), distdir.message());
        assertEquals(Severity.OK, finding(f, "PKGDIR").severity(), "the slave does not buildpkg");
    }

    @Test
    void check_slaveWithLocalDistdir_isClean() throws Exception {
        List<Finding> f = Preflight.check(MakeConf.load(Fixtures.path("make.conf/fixed-slave/make.conf")), wholeTree,
                Map.of());
        assertEquals(Severity.OK, finding(f, "DISTDIR").severity());
        assertEquals("/var/cache/distfiles-local", finding(f, "DISTDIR").value());
    }

    @Test
    void check_pkgdirOnTheShareWithBuildpkg_isAnError() {
        List<Finding> f = Preflight.check(Map.of("PKGDIR", "/var/cache/binpkgs", "FEATURES", "userpriv buildpkg"),
                pkgdirOnly, Map.of());
        assertEquals(Severity.ERROR, finding(f, "PKGDIR").severity());
        assertEquals(Severity.OK, finding(f, "DISTDIR").severity(), "default DISTDIR is a local bind mount");
        assertTrue(finding(f, "DISTDIR").value().contains("Portage default"));
    }

    @Test
    void check_agentManagedTargetNotMountedNow_stillCountsAsReadOnly() {
        MountTable rootOnly = MountTable.parse("26 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw\n");
        Map<String, MountConfig.MountSpec> specs = Map.of("portage",
                new TestSpec(java.nio.file.Path.of("/usr/portage"), false, "acer:/portage", null, null));
        List<Finding> f = Preflight.check(Map.of("DISTDIR", "/usr/portage/distfiles"), rootOnly, specs);
        assertEquals(Severity.ERROR, finding(f, "DISTDIR").severity());
        assertTrue(finding(f, "DISTDIR").message().contains("'portage'"));
    }

    @Test
    void check_relativeDistdir_isAnError() {
        List<Finding> f = Preflight.check(Map.of("DISTDIR", "distfiles"), pkgdirOnly, Map.of());
        assertEquals(Severity.ERROR, finding(f, "DISTDIR").severity());
    }
}
