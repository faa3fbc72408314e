package dev.binhost.agent.mount;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MountTableTest {
    private final MountTable wholeTree = MountTable.parse(Fixtures.text("proc/mountinfo-whole-tree-nfs"));
    private final MountTable pkgdirOnly = MountTable.parse(Fixtures.text("proc/mountinfo-pkgdir-only"));

    @Test
    void parse_nfs4Entry_givesSourceTypeAndReadOnly() {
        MountEntry portage = wholeTree.at(Path.of("/usr/portage")).orElseThrow();
        assertEquals(52, portage.mountId());
        assertEquals(26, portage.parentId());
        assertEquals("0:45", portage.device());
        assertEquals("nfs4", portage.fsType());
        assertEquals("acer:/portage", portage.source());
        assertTrue(portage.isNfs());
        assertTrue(portage.readOnly());
        assertEquals(List.of("shared:48"), portage.optionalFields());
        assertTrue(portage.superOptions().contains("soft"));
    }

    @Test
    void parse_octalEscapes_decodeSpaceTabAndBackslash() {
        assertTrue(wholeTree.at(Path.of("/srv/media/Music Library")).isPresent());
        assertEquals("/andrew/Music Library", wholeTree.at(Path.of("/srv/media/Music Library")).get().root());
        assertTrue(wholeTree.at(Path.of("/mnt/phone\tbackup")).isPresent());
        assertTrue(pkgdirOnly.at(Path.of("/mnt/backup\\share")).isPresent());
        assertEquals("a b\\c", MountTable.unescape("a\\040b\\134c"));
        assertEquals("not\\9escape", MountTable.unescape("not\\9escape"));
    }

    @Test
    void parse_bindMountOfSubdirectory_keepsItsRootAndDevice() {
        MountEntry distfiles = pkgdirOnly.at(Path.of("/var/cache/distfiles")).orElseThrow();
        assertEquals("/srv/distfiles", distfiles.root());
        assertEquals(pkgdirOnly.at(Path.of("/")).orElseThrow().device(), distfiles.device());
        assertFalse(distfiles.readOnly());
    }

    @Test
    void parse_fuseEntries_areRecognisedWithOrWithoutSubtype() {
        assertTrue(wholeTree.at(Path.of("/mnt/phone\tbackup")).orElseThrow().isFuse());
        assertEquals("fuse.sshfs", wholeTree.at(Path.of("/mnt/phone\tbackup")).orElseThrow().fsType());
        MountEntry plainFuse = pkgdirOnly.at(Path.of("/mnt/backup\\share")).orElseThrow();
        assertTrue(plainFuse.isFuse());
        assertEquals("/srv/backup", plainFuse.source());
    }

    @Test
    void at_targetMountedTwice_returnsTheLastMountedWhichIsVisible() {
        MountEntry binpkgs = pkgdirOnly.at(Path.of("/var/cache/binpkgs")).orElseThrow();
        assertEquals(53, binpkgs.mountId());
        assertEquals("nfs4", binpkgs.fsType());
        assertEquals(2, pkgdirOnly.entries().stream()
                .filter(e -> e.mountPoint().equals(Path.of("/var/cache/binpkgs"))).count());
    }

    @Test
    void containing_pathBelowMounts_returnsTheDeepestMount() {
        assertEquals(52, wholeTree.containing(Path.of("/usr/portage/distfiles/foo.tar.gz")).orElseThrow().mountId());
        assertEquals(26, wholeTree.containing(Path.of("/usr/portagex/file")).orElseThrow().mountId());
        assertEquals(31, wholeTree.containing(Path.of("/var/tmp/portage/sys-apps")).orElseThrow().mountId());
        assertEquals(53, pkgdirOnly.containing(Path.of("/var/cache/binpkgs/app-misc/x.gpkg.tar")).orElseThrow()
                .mountId());
    }

    @Test
    void parse_optionalFieldsMissingOrSeveral_findTheSeparator() {
        MountTable t = MountTable.parse("90 26 0:60 / /a rw shared:5 master:3 propagate_from:2 unbindable - tmpfs x rw\n"
                + "91 26 0:61 / /b rw - tmpfs y rw\n");
        assertEquals(List.of("shared:5", "master:3", "propagate_from:2", "unbindable"),
                t.at(Path.of("/a")).orElseThrow().optionalFields());
        assertEquals("y", t.at(Path.of("/b")).orElseThrow().source());
    }

    @Test
    void parse_truncatedLine_failsNamingTheLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MountTable.parse(Fixtures.text("proc/mountinfo-truncated")));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void parse_thisProcessesRealMountinfo_findsTheRootMount() throws Exception {
        MountTable real = MountTable.parse(java.nio.file.Files.readString(Path.of("/proc/self/mountinfo")));
        assertTrue(real.at(Path.of("/")).isPresent());
        assertTrue(real.at(Path.of("/proc")).isPresent());
    }

    @Test
    void containing_liveReadOnlyBindMountInAPrivateNamespace_isReadOnlyAndUnescaped(@TempDir Path dir)
            throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")) && isRoot(),
                "needs root and unshare(1) for a private mount namespace");
        Path src = Files.createDirectories(dir.resolve("src/distfiles")).getParent();
        Path share = Files.createDirectories(dir.resolve("share dir"));
        Process p = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount --bind \"$1\" \"$2\" && mount -o remount,bind,ro \"$2\" && cat /proc/self/mountinfo",
                "sh", src.toString(), share.toString()).redirectErrorStream(true).start();
        String mountinfo = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), mountinfo);

        MountTable live = MountTable.parse(mountinfo);
        MountEntry m = live.containing(share.resolve("distfiles")).orElseThrow();
        assertEquals(share, m.mountPoint(), "the space in the path is unescaped");
        assertTrue(m.readOnly());
        assertFalse(live.containing(src.resolve("distfiles")).orElseThrow().readOnly());
    }

    static boolean isRoot() throws Exception {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .anyMatch(l -> l.matches("Uid:\\s+\\d+\\s+0\\s.*"));
    }
}
