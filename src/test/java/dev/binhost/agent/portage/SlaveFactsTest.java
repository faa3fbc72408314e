package dev.binhost.agent.portage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** This slave's CHOST, ARCH, PKGDIR and binary options, from the harness hosts' real config and from corners. */
class SlaveFactsTest {
    static final Path HARNESS = Path.of("src/test/resources/fixtures/portage/harness");
    static final List<String> SEED = List.of("--usepkg", "--update", "--deep", "--changed-use", "--with-bdeps", "y",
            "@world");

    @TempDir
    Path tmp;

    static SlaveFacts host(String name, List<String> args) {
        return SlaveFacts.read(HARNESS.resolve(name).resolve("etc/portage/make.conf"), args);
    }

    @Test
    void read_harnessSlaves_chostFromTheProfileUnlessMakeConfSetsIt() {
        SlaveFacts slave = host("slave", SEED);
        assertEquals(Optional.of("x86_64-pc-linux-gnu"), slave.chost());
        assertEquals(Optional.of("amd64"), slave.arch());
        assertEquals(Path.of("/var/cache/binpkgs/Packages"), slave.packagesFile());
        assertTrue(slave.usesBinaries());
        assertTrue(slave.acceptsChost("x86_64-pc-linux-gnu"));
        assertEquals(List.of(), slave.notes());

        SlaveFacts chost = host("slave-chost", SEED);
        assertEquals(Optional.of("x86_64-gentoo-linux-musl"), chost.chost());
        assertEquals(List.of("x86_64-gentoo-linux-musl"), chost.acceptChosts());
        assertFalse(chost.acceptsChost("x86_64-pc-linux-gnu"), "the master's binaries: rejected, as emerge did");
        assertTrue(chost.acceptsChost("x86_64-gentoo-linux-musl"));
        assertEquals("ACCEPT_CHOSTS x86_64-gentoo-linux-musl", chost.chostShown());
    }

    @Test
    void usesBinaries_fromTheArgumentsAndEmergeDefaultOpts_lastWordWins() {
        // the master's own command line (index.tsv, 097): no --usepkg
        assertFalse(host("master", List.of("--update", "--deep", "--newuse", "--with-bdeps", "y", "@world"))
                .usesBinaries());
        assertTrue(host("master", List.of("-uDNk", "@world")).usesBinaries());
        assertTrue(host("master", List.of("--usepkgonly", "@world")).usesBinaries());
        assertFalse(host("slave", List.of("--usepkg", "--usepkg=n", "@world")).usesBinaries());
        assertFalse(host("slave", List.of("--usepkg", "n", "@world")).usesBinaries());
        assertTrue(facts("EMERGE_DEFAULT_OPTS=\"--jobs 2 --usepkg\"\n", List.of("@world")).usesBinaries());
        assertFalse(facts("EMERGE_DEFAULT_OPTS=\"--usepkg\"\n", List.of("--usepkg=n", "@world")).usesBinaries(),
                "the command line comes after EMERGE_DEFAULT_OPTS");
        assertTrue(facts("FEATURES=\"getbinpkg\"\n", List.of("@world")).usesBinaries());
        SlaveFacts excl = facts("EMERGE_DEFAULT_OPTS=\"--usepkg-exclude sys-kernel/*-sources\"\n", SEED);
        assertEquals(Optional.of("sys-kernel/*-sources"), excl.excludedFromBinaries("sys-kernel/gentoo-sources"));
        assertEquals(Optional.empty(), excl.excludedFromBinaries("app-misc/demo-cli"));
        assertEquals(Optional.of("demo-cli"),
                facts("", List.of("--usepkg", "--usepkg-exclude=demo-cli")).excludedFromBinaries("app-misc/demo-cli"));
    }

    @Test
    void read_profileParents_stackedParentFirst_makeConfLast_pkgdirFromMakeConf() throws Exception {
        Path base = Files.createDirectories(tmp.resolve("profiles/base"));
        Files.writeString(base.resolve("make.defaults"), "ARCH=\"arm64\"\nCHOST=\"aarch64-unknown-linux-gnu\"\n");
        Path child = Files.createDirectories(tmp.resolve("profiles/child"));
        Files.writeString(child.resolve("parent"), "# comment\n../base\ngentoo:targets/desktop\n");
        Files.writeString(child.resolve("make.defaults"), "CHOST=\"aarch64-unknown-linux-musl\"\n");
        Path etc = Files.createDirectories(tmp.resolve("etc/portage"));
        Files.createSymbolicLink(etc.resolve("make.profile"), child);
        Files.writeString(etc.resolve("make.conf"), "PKGDIR=\"/srv/binpkgs\"\n");
        SlaveFacts f = SlaveFacts.read(etc.resolve("make.conf"), SEED);
        assertEquals(Optional.of("arm64"), f.arch());
        assertEquals(Optional.of("aarch64-unknown-linux-musl"), f.chost());
        assertEquals(Path.of("/srv/binpkgs/Packages"), f.packagesFile());
        assertEquals(1, f.notes().size(), f.notes().toString());
        assertTrue(f.notes().get(0).contains("parent 'gentoo:targets/desktop' names a repository"), f.notes().get(0));

        Files.writeString(child.resolve("parent"), "../child\n");
        SlaveFacts loop = SlaveFacts.read(etc.resolve("make.conf"), SEED);
        assertTrue(loop.notes().get(0).contains("parent chain loops"), loop.notes().toString());
        assertEquals(Optional.of("aarch64-unknown-linux-musl"), loop.chost());
    }

    @Test
    void read_nothingThere_factsUnknown_everyChostAccepted() {
        SlaveFacts f = SlaveFacts.read(tmp.resolve("etc/portage/make.conf"), SEED);
        assertEquals(Optional.empty(), f.chost());
        assertEquals(Optional.empty(), f.arch());
        assertEquals(Path.of(SlaveFacts.DEFAULT_PKGDIR), f.pkgdir());
        assertTrue(f.acceptsChost("anything"), "nothing to compare with");
        assertEquals("unknown", f.chostShown());
    }

    @Test
    void acceptsChost_acceptChostsAreRegularExpressions_aBrokenOneMatchesItselfOnly() throws Exception {
        SlaveFacts f = facts("ACCEPT_CHOSTS=\"x86_64-.*-linux-gnu i[3-6]86-pc-linux-gnu (broken\"\n", SEED);
        assertTrue(f.acceptsChost("x86_64-pc-linux-gnu"));
        assertTrue(f.acceptsChost("i686-pc-linux-gnu"));
        assertFalse(f.acceptsChost("x86_64-gentoo-linux-musl"));
        assertTrue(f.acceptsChost("(broken"));
    }

    private SlaveFacts facts(String makeConf, List<String> args) {
        try {
            Path etc = Files.createDirectories(tmp.resolve("conf-" + Integer.toHexString(makeConf.hashCode())));
            Files.writeString(etc.resolve("make.conf"), makeConf);
            return SlaveFacts.read(etc.resolve("make.conf"), args);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
