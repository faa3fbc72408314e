package dev.binhost.agent.emerge;

import dev.binhost.agent.portage.BinpkgIndex;
import dev.binhost.agent.portage.SlaveFacts;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Binaries only, safely: the options the agent adds, and the packages emerge drops, from the harness records of
 * --usepkgonly runs on the mixed slave (records 07-10: fresh slave, its package.use keeps three packages from
 * the master's binaries).
 */
class UsepkgOnlyTest {
    static final Path RECORDS = Path.of("src/test/resources/fixtures/records");
    static final List<String> SEED = List.of("--usepkg", "--update", "--deep", "--changed-use", "--with-bdeps", "y",
            "@world");

    static String output(String record) throws IOException {
        return Files.readString(RECORDS.resolve(record).resolve("output.rc0.txt"));
    }

    static List<String> args(String record) throws IOException {
        return Arrays.stream(Files.readString(RECORDS.resolve(record).resolve("command")).strip().split(" "))
                .skip(1).toList();
    }

    static SlaveFacts mixed(List<String> args) {
        return SlaveFacts.read(BuildReasonsTest.HARNESS.resolve("slave-mixed/etc/portage/make.conf"), args);
    }

    static BinpkgIndex index() throws BinpkgIndex.Unreadable {
        return BinpkgIndex.read(RECORDS.resolve("01-mixed-jobs2-cli/Packages"), BinpkgIndex.DEFAULT_MAX_BYTES);
    }

    @Test
    void safetyArgs_whenBinariesOnly_bothOptionsOn_anAdminsOwnValueStands() throws IOException {
        List<String> only = new java.util.ArrayList<>(SEED);
        only.add("--usepkgonly");
        assertEquals(List.of("--binpkg-respect-use=y", "--binpkg-changed-deps=y"), UsepkgOnly.safetyArgs(only));
        List<String> recorded = args("09-mixed-usepkgonly-respect-pretend");
        List<String> withSafety = new java.util.ArrayList<>(only);
        withSafety.addAll(UsepkgOnly.safetyArgs(only));
        withSafety.add(0, "--pretend");
        withSafety.add(1, "--verbose");
        assertEquals(recorded, withSafety, "the command line of the recorded safe run");
        assertEquals(List.of(), UsepkgOnly.safetyArgs(SEED));
        assertEquals(List.of(), UsepkgOnly.safetyArgs(List.of("--usepkgonly=n", "@world")));
        assertEquals(List.of("--binpkg-respect-use=y", "--binpkg-changed-deps=y"),
                UsepkgOnly.safetyArgs(List.of("-uDK", "@world")));
        assertEquals(List.of("--binpkg-changed-deps=y"),
                UsepkgOnly.safetyArgs(List.of("--getbinpkgonly", "--binpkg-respect-use=n", "@world")));
    }

    @Test
    void droppedAtoms_emergeNamesTheWorldPackagesItLeftOut_withAndWithoutTheSafetyOptions() throws IOException {
        List<String> three = List.of("app-editors/demo-edit", "app-misc/demo-cli", "net-misc/demo-daemon");
        for (String record : List.of("07-mixed-usepkgonly-pretend", "09-mixed-usepkgonly-respect-pretend",
                "10-mixed-usepkgonly-respect")) {
            EmergePlan p = EmergePlan.parse(output(record));
            assertEquals(three, UsepkgOnly.droppedAtoms(p), record);
        }
        EmergePlan p = EmergePlan.parse(output("09-mixed-usepkgonly-respect-pretend"));
        assertEquals(3, p.binaries().size());
        assertEquals(0, p.compiled().size(), "binaries only: nothing compiled, the rest silently left out");
    }

    @Test
    void withDropped_namesEachPackageAndWhyFromTheIndex() throws IOException, BinpkgIndex.Unreadable {
        List<String> args = args("09-mixed-usepkgonly-respect-pretend");
        EmergePlan p = UsepkgOnly.withDropped(EmergePlan.parse(output("09-mixed-usepkgonly-respect-pretend")),
                Optional.of(index()), null, mixed(args));
        EmergePlan.Notice n = p.notices().get(p.notices().size() - 1);
        assertEquals(UsepkgOnly.NOTICE, n.kind());
        assertEquals(EmergePlan.Severity.WARNING, n.severity());
        assertEquals("not installed, no usable binary on the master (binaries only): app-editors/demo-edit (USE "
                + "differs: binary app-editors/demo-edit-0.9-1 has X gtk, this machine wants -X -gtk); app-misc/demo-cli"
                + " (needs dev-libs/libdemo: USE differs: binary dev-libs/libdemo-1.2.3-1 has -static-libs, this"
                + " machine wants static-libs); net-misc/demo-daemon (USE differs: binary net-misc/demo-daemon-1.5-1"
                + " has systemd, this machine wants -systemd)", n.headline());
        assertEquals(List.of(
                new UsepkgOnly.Dropped("app-editors/demo-edit",
                        "USE differs: binary app-editors/demo-edit-0.9-1 has X gtk, this machine wants -X -gtk"),
                new UsepkgOnly.Dropped("app-misc/demo-cli", "needs dev-libs/libdemo: USE differs: binary "
                        + "dev-libs/libdemo-1.2.3-1 has -static-libs, this machine wants static-libs"),
                new UsepkgOnly.Dropped("net-misc/demo-daemon",
                        "USE differs: binary net-misc/demo-daemon-1.5-1 has systemd, this machine wants -systemd")),
                UsepkgOnly.dropped(p));
    }

    @Test
    void withDropped_withoutIndex_saysWhy_andAPlanThatDropsNothingIsUnchanged() throws Exception {
        EmergePlan p = UsepkgOnly.withDropped(EmergePlan.parse(output("10-mixed-usepkgonly-respect")),
                Optional.empty(), "/var/cache/binpkgs/Packages: no such file", mixed(SEED));
        assertEquals(new UsepkgOnly.Dropped("app-misc/demo-cli",
                "the master's index was not used: /var/cache/binpkgs/Packages: no such file"),
                UsepkgOnly.dropped(p).get(1));
        EmergePlan allBinary = EmergePlan.parse(Fixtures.entry("015-").text());
        assertSame(allBinary, UsepkgOnly.withDropped(allBinary, Optional.of(index()), null, mixed(SEED)));
        assertTrue(UsepkgOnly.dropped(allBinary).isEmpty());
    }

    @Test
    void explain_underBinariesOnly_readsTheIndexForTheDroppedPackages_onlyThen() throws Exception {
        EmergePlan out = EmergePlan.parse(output("09-mixed-usepkgonly-respect-pretend"));
        Path makeConf = BuildReasonsTest.HARNESS.resolve("slave-mixed/etc/portage/make.conf");
        // PKGDIR is the harness's /var/cache/binpkgs, not on this machine: the notice says so, per package
        EmergePlan p = BuildReasons.explain(out, makeConf, args("09-mixed-usepkgonly-respect-pretend"));
        assertEquals(3, UsepkgOnly.dropped(p).size());
        assertTrue(UsepkgOnly.dropped(p).get(0).why().startsWith("the master's index was not used: "
                + Path.of(SlaveFacts.DEFAULT_PKGDIR, "Packages")), UsepkgOnly.dropped(p).get(0).why());
        assertFalse(p.notices().stream().anyMatch(n -> n.kind().equals("binpkg-index")), "nothing compiled");
        assertSame(out, BuildReasons.explain(out, makeConf, SEED), "without binaries only the notice is emerge's");
    }
}
