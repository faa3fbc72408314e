package dev.binhost.agent.emerge;

import dev.binhost.agent.portage.BinpkgIndex;
import dev.binhost.agent.portage.MakeConf;
import dev.binhost.agent.portage.SlaveFacts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Why each package is built here, from real plans (fixtures/emerge), the master's real Packages index as it was
 * when each plan was recorded, and the harness hosts' real make.conf and profile.
 */
class BuildReasonsTest {
    static final Path HARNESS = Path.of("src/test/resources/fixtures/portage/harness");
    /** Recorded after the master's first build: what the slave scenarios 013-092 saw. */
    static final String INITIAL = "Packages.after-master-initial";
    /** Recorded after the master's update build: what 111-118 saw. */
    static final String UPDATE = "Packages.after-master-update";

    @TempDir
    Path tmp;

    static EmergePlan plan(String prefix) {
        return EmergePlan.parse(Fixtures.entry(prefix).text());
    }

    /** The host's facts with the very arguments the fixture was recorded with (index.tsv). */
    static SlaveFacts facts(String prefix) {
        Fixtures.Entry e = Fixtures.entry(prefix);
        List<String> args = Arrays.stream(e.args().split(" ")).filter(a -> !a.equals("emerge")
                && !a.startsWith("--color") && !a.startsWith("NOCOLOR")).toList();
        return SlaveFacts.read(HARNESS.resolve(e.host()).resolve("etc/portage/make.conf"), args);
    }

    static BinpkgIndex index(String name) throws BinpkgIndex.Unreadable {
        return BinpkgIndex.read(Fixtures.DIR.resolve(name), BinpkgIndex.DEFAULT_MAX_BYTES);
    }

    static Map<String, CompileReason> reasons(EmergePlan p) {
        return p.compiled().stream().collect(Collectors.toMap(PlannedPackage::atom, c -> c.reason().orElseThrow(),
                (a, b) -> a, java.util.LinkedHashMap::new));
    }

    @Test
    void newPackageTheMasterNeverBuilt_isNoBinary_notADifferentChost() throws Exception {
        EmergePlan out = plan("089-"); // [ebuild N] app-misc/demo-successor-1.0, nothing else comes as a binary
        CompileReason guessed = reasons(out).get("app-misc/demo-successor");
        assertEquals(CompileReason.Kind.NO_USABLE_BINARIES, guessed.kind(), "what emerge's output alone allows");
        assertTrue(guessed.text().contains("CHOST"), guessed.text());

        CompileReason r = reasons(out.withReasons(index(INITIAL), facts("089-"))).get("app-misc/demo-successor");
        assertEquals(CompileReason.Kind.NO_BINARY, r.kind());
        assertEquals("no binary of app-misc/demo-successor-1.0 on the master (none of app-misc/demo-successor)",
                r.text());
        assertEquals("no-binary", r.kind().tag());
    }

    @Test
    void mixedSlave_theIndexTellsTheSameFlagsAsEmerge_bothSides() throws Exception {
        EmergePlan out = plan("029-");
        EmergePlan p = out.withReasons(index(INITIAL), facts("029-"));
        assertEquals(reasons(out), reasons(p), "emerge's own list stands");
        for (PlannedPackage c : out.compiled()) {
            CompileReason fromEmerge = c.reason().orElseThrow();
            CompileReason fromIndex = BuildReasons.unusable(c, index(INITIAL), facts("029-")).orElseThrow();
            assertEquals(CompileReason.Kind.USE_DIFFERS, fromIndex.kind(), c.cpv());
            assertEquals(new HashSet<>(fromEmerge.binaryFlags()), new HashSet<>(fromIndex.binaryFlags()), c.cpv());
            assertEquals(new HashSet<>(fromEmerge.flags()), new HashSet<>(fromIndex.flags()), c.cpv());
        }
        assertEquals("USE differs from the master's binary: binary has X gtk, this machine wants -X -gtk",
                BuildReasons.unusable(p.compiled().get(1), index(INITIAL), facts("029-")).orElseThrow().text());
        assertEquals(p.binaries(), out.binaries(), "binaries untouched");
    }

    @Test
    void mixedUpdate_indexAfterTheMastersUpdate_agreesWithEmerge() throws Exception {
        EmergePlan out = plan("115-");
        for (PlannedPackage c : out.compiled()) {
            CompileReason fromIndex = BuildReasons.unusable(c, index(UPDATE), facts("115-")).orElseThrow();
            assertEquals(new HashSet<>(c.reason().orElseThrow().binaryFlags()),
                    new HashSet<>(fromIndex.binaryFlags()), c.cpv());
        }
        // the same plan against the index before the master's update: those versions were not built yet
        BinpkgIndex initial = index(INITIAL);
        Map<String, CompileReason> before = out.compiled().stream().collect(Collectors.toMap(PlannedPackage::atom,
                c -> BuildReasons.unusable(c, initial, facts("115-")).orElseThrow()));
        assertEquals("no binary of dev-libs/libdemo-1.3.0 on the master (it has 1.2.3)",
                before.get("dev-libs/libdemo").text());
        assertEquals("no binary of net-misc/demo-daemon-1.6 on the master (it has 1.5)",
                before.get("net-misc/demo-daemon").text());
    }

    @Test
    void chostSlave_everyBinaryForAnotherChost_namesBothValues() throws Exception {
        EmergePlan p = plan("038-").withReasons(index(INITIAL), facts("038-"));
        assertEquals(11, p.compiled().size());
        for (CompileReason r : reasons(p).values()) {
            assertEquals(CompileReason.Kind.CHOST_DIFFERS, r.kind());
            assertEquals("CHOST differs: binary x86_64-pc-linux-gnu, this machine ACCEPT_CHOSTS "
                    + "x86_64-gentoo-linux-musl", r.text());
        }
    }

    @Test
    void anotherArch_namesBothArches() throws Exception {
        MakeConf.Evaluation arm = MakeConf.evaluate(List.of(new MakeConf.Source("make.conf",
                "ARCH=\"arm64\"\nCHOST=\"aarch64-unknown-linux-gnu\"\n")));
        EmergePlan p = plan("038-").withReasons(index(INITIAL), SlaveFacts.of(arm, List.of("--usepkg"), List.of()));
        assertEquals("ARCH differs: master amd64, this machine arm64",
                reasons(p).get("app-misc/demo-cli").text());
    }

    @Test
    void master_withoutUsepkg_isALocalBuildAskedFor_withUsepkg_noBinaryOrSubSlotRebuild() throws Exception {
        EmergePlan out = plan("097-"); // the master's update: libdemo 1.3.0 (new sub-slot), demo-cli rR, daemon 1.6
        Map<String, CompileReason> asIs = reasons(out.withReasons(index(INITIAL), facts("097-")));
        for (CompileReason r : asIs.values()) {
            assertEquals(CompileReason.Kind.LOCAL_REBUILD, r.kind());
            assertEquals("binaries not wanted: emerge runs without --usepkg", r.text());
        }
        SlaveFacts usepkg = SlaveFacts.read(HARNESS.resolve("master/etc/portage/make.conf"),
                List.of("--usepkg", "--update", "--deep", "--newuse", "--with-bdeps", "y", "@world"));
        Map<String, CompileReason> r = reasons(out.withReasons(index(INITIAL), usepkg));
        assertEquals(CompileReason.Kind.NO_BINARY, r.get("dev-libs/libdemo").kind());
        assertEquals(CompileReason.Kind.NO_BINARY, r.get("net-misc/demo-daemon").kind());
        CompileReason cli = r.get("app-misc/demo-cli");
        assertEquals(CompileReason.Kind.DEPS_CHANGED, cli.kind());
        assertEquals("the master's binary app-misc/demo-cli-2.0-1 matches USE and CHOST; rebuilt for a changed slot"
                + " or sub-slot of a dependency", cli.text());
    }

    @Test
    void usepkgExclude_isALocalBuildAskedFor() throws Exception {
        MakeConf.Evaluation conf = MakeConf.evaluate(List.of(new MakeConf.Source("make.conf",
                "EMERGE_DEFAULT_OPTS=\"--usepkg-exclude app-editors/*\"\n")));
        EmergePlan p = plan("029-").withReasons(index(INITIAL), SlaveFacts.of(conf, List.of("--usepkg"), List.of()));
        assertEquals("binaries not wanted: --usepkg-exclude app-editors/*", reasons(p).get("app-editors/demo-edit")
                .text());
        assertEquals(CompileReason.Kind.USE_DIFFERS, reasons(p).get("dev-libs/libdemo").kind());
    }

    @Test
    void explain_readsPkgdirFromMakeConf_orSaysWhyTheIndexWasNotUsed() throws Exception {
        Path etc = Files.createDirectories(tmp.resolve("etc/portage"));
        Path pkgdir = Files.createDirectories(tmp.resolve("binpkgs"));
        Files.writeString(etc.resolve("make.conf"), Files.readString(HARNESS.resolve("slave/etc/portage/make.conf"))
                + "PKGDIR=\"" + pkgdir + "\"\n");
        EmergePlan out = plan("089-");

        EmergePlan missing = BuildReasons.explain(out, etc.resolve("make.conf"), List.of("--usepkg", "@world"));
        assertEquals(CompileReason.Kind.NO_USABLE_BINARIES, reasons(missing).get("app-misc/demo-successor").kind());
        EmergePlan.Notice note = missing.notices().get(missing.notices().size() - 1);
        assertEquals("binpkg-index", note.kind());
        assertEquals(EmergePlan.Severity.WARNING, note.severity());
        assertEquals("reasons from emerge's output only: the master's index was not used: " + pkgdir.resolve("Packages")
                + ": no such file", note.headline());

        Files.writeString(pkgdir.resolve("Packages"), Files.readString(Fixtures.DIR.resolve(INITIAL))
                .replace("CPV: app-misc/demo-cli-2.0\n", ""));
        EmergePlan broken = BuildReasons.explain(out, etc.resolve("make.conf"), List.of("--usepkg", "@world"));
        String headline = broken.notices().get(broken.notices().size() - 1).headline();
        assertTrue(headline.matches(".*" + java.util.regex.Pattern.quote(pkgdir.resolve("Packages").toString())
                + " line \\d+: package entry without CPV"), headline);

        Files.copy(Fixtures.DIR.resolve(INITIAL), pkgdir.resolve("Packages"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        EmergePlan told = BuildReasons.explain(out, etc.resolve("make.conf"), List.of("--usepkg", "@world"));
        assertEquals(CompileReason.Kind.NO_BINARY, reasons(told).get("app-misc/demo-successor").kind());
        assertEquals(out.notices(), told.notices());

        EmergePlan allBinary = plan("015-");
        assertSame(allBinary, BuildReasons.explain(allBinary, etc.resolve("make.conf"), List.of("--usepkg")),
                "nothing compiled: nothing read");
    }

    @Test
    void withoutIndex_withoutUsepkg_stillSaysTheLocalBuildWasAskedFor() {
        EmergePlan p = plan("097-").withoutIndex("no such file", facts("097-"));
        assertTrue(reasons(p).values().stream().allMatch(r -> r.kind() == CompileReason.Kind.LOCAL_REBUILD));
    }
}
