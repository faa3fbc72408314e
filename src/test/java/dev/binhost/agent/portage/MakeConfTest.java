package dev.binhost.agent.portage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one make.conf parser, as {@code binhost-agent check} and the mount preflight use it. */
class MakeConfTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures");
    static final Path SEED = FIXTURES.resolve("portage/seed");

    private static MakeConf.Evaluation eval(String... texts) {
        List<MakeConf.Source> sources = new java.util.ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            sources.add(new MakeConf.Source("make.conf/0" + (i + 1) + "x", texts[i]));
        }
        return MakeConf.evaluate(sources);
    }

    @Test
    void evaluate_seedConfigs_slaveUseStartsWithTheMastersUse() throws Exception {
        MakeConf.Evaluation e = MakeConf.evaluate(MakeConf.read(SEED.resolve("make.conf")));
        assertTrue(e.get("USE").startsWith("3dnow 3dnowext cleartype"), e.get("USE"));
        assertTrue(e.get("USE").endsWith("bluetooth pm-utils upower wireless -3dnow -3dnowext -consolekit elogind"));
        assertEquals("aes avx avx2 f16c fma3 fma4 mmx mmxext pclmul popcnt sse sse2 sse3 sse4_1 sse4_2 sse4a ssse3 xop",
                e.get("CPU_FLAGS_X86"));
        assertEquals("--jobs 4 --load-average 4 --quiet-build y --buildpkg-exclude 'sys-kernel/*-sources "
                + "games-simulation/flightgear-data'", e
                .assignments().stream().filter(a -> a.name().equals("EMERGE_DEFAULT_OPTS")).findFirst().orElseThrow()
                .value());
        assertEquals("--jobs 2 --load-average 2 --quiet-build y", e.get("EMERGE_DEFAULT_OPTS"));
        assertTrue(e.problems().isEmpty(), e.problems().toString());
    }

    @Test
    void read_directory_usesCollatingOrderAndSkipsBackupsAndDotFiles(@TempDir Path dir) throws Exception {
        Path mc = Files.createDirectory(dir.resolve("make.conf"));
        Files.writeString(mc.resolve("02slave"), "A=\"${A} two\"\n");
        Files.writeString(mc.resolve("01master"), "A=one\n");
        Files.writeString(mc.resolve("10late"), "A=\"${A} three\"\n");
        Files.writeString(mc.resolve("02slave~"), "A=backup\n");
        Files.writeString(mc.resolve(".01hidden"), "A=hidden\n");
        List<MakeConf.Source> sources = MakeConf.read(mc);
        assertEquals(List.of("make.conf/01master", "make.conf/02slave", "make.conf/10late"),
                sources.stream().map(MakeConf.Source::name).toList());
        assertEquals("one two three", MakeConf.evaluate(sources).get("A"));
    }

    @Test
    void load_seedSlaveWithBackupFile_expandsFromTheMastersFileAndIgnoresTheBackup() throws Exception {
        Path mc = FIXTURES.resolve("make.conf/seed-slave/make.conf");
        assertEquals(List.of("make.conf/01master", "make.conf/02slave"),
                MakeConf.read(mc).stream().map(MakeConf.Source::name).toList(), "02slave~ is an editor backup");
        MakeConf.Evaluation e = MakeConf.load(mc);
        assertEquals("/usr/portage/distfiles", e.get("DISTDIR"), "${PORTDIR} set in 01master");
        assertEquals("/usr/portage/packages", e.get("PKGDIR"));
        assertEquals("parallel-fetch userfetch nostrip binpkg-logs", e.get("FEATURES"));
        assertEquals("amdgpu radeonsi", e.get("VIDEO_CARDS"));
        assertTrue(e.get("USE").endsWith("bluetooth pm-utils upower wireless -3dnow -3dnowext -consolekit elogind"));
        assertTrue(e.get("EMERGE_DEFAULT_OPTS").contains("'sys-kernel/*-sources games-simulation/flightgear-data'"));
        assertTrue(e.problems().isEmpty(), e.problems().toString());
        assertEquals("make.conf/02slave", e.slaveFile());
        assertEquals("/var/cache/distfiles-local",
                MakeConf.load(FIXTURES.resolve("make.conf/fixed-slave/make.conf")).get("DISTDIR"),
                "export DISTDIR='...' in 02slave overrides the master's");
    }

    @Test
    void read_nestedDirectories_areWalkedInPortagesOrderSkippingHiddenBackupAndCvs(@TempDir Path dir)
            throws Exception {
        Path mc = Files.createDirectory(dir.resolve("make.conf"));
        Files.createDirectories(mc.resolve("02slave"));
        Files.createDirectories(mc.resolve(".git"));
        Files.createDirectories(mc.resolve("CVS"));
        Files.createDirectories(mc.resolve("old~"));
        Files.writeString(mc.resolve("01master"), "A=one\n");
        Files.writeString(mc.resolve("02slave/b"), "A=\"${A} b\"\n");
        Files.writeString(mc.resolve("02slave/a"), "A=\"${A} a\"\n");
        Files.writeString(mc.resolve("02slave.z"), "A=\"${A} z\"\n");
        Files.writeString(mc.resolve(".git/x"), "A=git\n");
        Files.writeString(mc.resolve("CVS/x"), "A=cvs\n");
        Files.writeString(mc.resolve("old~/x"), "A=old\n");
        List<MakeConf.Source> sources = MakeConf.read(mc);
        // A directory's files come where its name sorts ("02slave" before "02slave.z"), not by full path.
        assertEquals(List.of("make.conf/01master", "make.conf/02slave/a", "make.conf/02slave/b",
                "make.conf/02slave.z"), sources.stream().map(MakeConf.Source::name).toList());
        assertEquals("one a b z", MakeConf.evaluate(sources).get("A"));
    }

    @Test
    void read_missingPath_hasNoSources() throws Exception {
        assertTrue(MakeConf.read(Path.of("/nonexistent/make.conf")).isEmpty());
        assertTrue(MakeConf.load(Path.of("/nonexistent/make.conf")).values().isEmpty());
    }

    @Test
    void load_singleFile_handlesUnquotedCommentsContinuationsAndEscapes() throws Exception {
        MakeConf.Evaluation e = MakeConf.load(FIXTURES.resolve("make.conf/single-file.conf"));
        assertEquals("/var/cache/binpkgs", e.get("PKGDIR"), "the trailing comment is not part of the value");
        assertEquals("/var/cache/distfiles", e.get("DISTDIR"));
        assertEquals("-O2 -pipe", e.get("CFLAGS"));
        assertEquals("-O2 -pipe -g0", e.get("CXXFLAGS"));
        assertEquals("getbinpkg  binpkg-logs", e.get("FEATURES"));
        assertEquals("a \"b\" $c", e.get("QUOTED"));
        assertTrue(e.problems().isEmpty(), e.problems().toString());
        assertEquals("make.conf/02local", e.slaveFile(), "no 02* file yet: advice names a new one");
    }

    @Test
    void read_singleFile_isOneSource(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("make.conf"), "CHOST=\"x86_64-pc-linux-gnu\"\n");
        assertEquals("x86_64-pc-linux-gnu", MakeConf.evaluate(MakeConf.read(dir.resolve("make.conf"))).get("CHOST"));
    }

    @Test
    void evaluate_expansionForms_followShellRules() {
        MakeConf.Evaluation e = eval("""
                PORTDIR=/usr/portage
                DISTDIR="${PORTDIR}/distfiles"
                PKGDIR=$PORTDIR/packages
                BRACED=${PORTDIR}/a
                LITERAL='${PORTDIR} stays'
                export MAKEOPTS="-j2"
                ESCAPED="cost \\$5 \\"quoted\\""
                UNSET="[${NOPE}]"
                """);
        assertEquals("/usr/portage/distfiles", e.get("DISTDIR"));
        assertEquals("/usr/portage/packages", e.get("PKGDIR"));
        assertEquals("/usr/portage/a", e.get("BRACED"));
        assertEquals("${PORTDIR} stays", e.get("LITERAL"));
        assertEquals("-j2", e.get("MAKEOPTS"));
        assertEquals("cost $5 \"quoted\"", e.get("ESCAPED"));
        assertEquals("[]", e.get("UNSET"));
    }

    @Test
    void evaluate_multiLineValuesAndContinuations_keepLineNumbers() {
        MakeConf.Evaluation e = eval("USE=\"a\n  b\"\nX=1\\\n2\n# comment\nCHOST=x  # trailing\n");
        assertEquals("a\n  b", e.get("USE"));
        assertEquals("12", e.get("X"));
        assertEquals("x", e.get("CHOST"));
        assertEquals(6, e.assignments().stream().filter(a -> a.name().equals("CHOST")).findFirst().orElseThrow().line());
    }

    @Test
    void evaluate_garbageAndUnclosedQuotes_areNamedProblemsWithLine() {
        MakeConf.Evaluation e = eval("A=1\nsource /etc/other\nB=\"open\n");
        assertEquals(2, e.problems().size(), e.problems().toString());
        assertTrue(e.problems().get(0).startsWith("make.conf/01x line 2: not an assignment"), e.problems().get(0));
        assertTrue(e.problems().get(1).contains("line 3: B has an unclosed quote"), e.problems().get(1));
        assertEquals("1", e.get("A"));
    }

    @Test
    void setInAndLast_findAssignmentsByFilePrefixAndTheOneInForce() {
        MakeConf.Evaluation e = eval("CHOST=a\n", "CHOST=b\n");
        assertEquals(1, e.setIn("CHOST", "02").size());
        assertEquals("b", e.setIn("CHOST", "02").get(0).value());
        assertEquals("make.conf/02x", e.last("CHOST").orElseThrow().source());
        assertTrue(e.last("DISTDIR").isEmpty());
        assertEquals("make.conf/02x", e.slaveFile());
    }
}
