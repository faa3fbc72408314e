package dev.binhost.agent.portage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The master's Packages index, as Portage 3.0.82 wrote it in the harness, and what is wrong with bad copies. */
class BinpkgIndexTest {
    static final Path EMERGE = Path.of("src/test/resources/fixtures/emerge");

    @TempDir
    Path tmp;

    static BinpkgIndex index(String name) throws BinpkgIndex.Unreadable {
        return BinpkgIndex.read(EMERGE.resolve(name), BinpkgIndex.DEFAULT_MAX_BYTES);
    }

    @Test
    void read_final_headerAndFifteenEntries_chostInheritedFromTheHeader() throws Exception {
        BinpkgIndex i = index("Packages.final");
        assertEquals("amd64", i.header().get("ARCH"));
        assertEquals("amd64", i.arch().orElseThrow());
        assertEquals("15", i.header().get("PACKAGES"));
        assertEquals(15, i.entries().size());
        BinpkgIndex.Entry first = i.entries().get(0);
        assertEquals("app-editors/demo-edit-0.9", first.cpv());
        assertEquals("app-editors/demo-edit", first.atom());
        assertEquals("0.9", first.version());
        assertEquals(1, first.buildId().getAsInt());
        assertEquals(Set.of("X", "gtk"), first.iuse());
        assertTrue(first.use().containsAll(Set.of("X", "gtk", "amd64")), first.use().toString());
        assertEquals("x86_64-pc-linux-gnu", first.chost(), "no CHOST line in the entry: the header's");
        assertEquals("gentoo", first.get("REPO"));
        assertEquals("app-editors/demo-edit/demo-edit-0.9-1.gpkg.tar", first.get("PATH"));
        assertEquals(27, first.line(), "the line its block starts on");
    }

    @Test
    void of_multiInstance_newestBuildFirst_andEveryVersionOfAPackage() throws Exception {
        BinpkgIndex i = index("Packages.final");
        assertEquals(List.of("app-misc/demo-cli-2.0-2", "app-misc/demo-cli-2.0-1"),
                i.of("app-misc/demo-cli", "2.0").stream().map(BinpkgIndex.Entry::shown).toList());
        assertEquals(List.of("1.2.3", "1.3.0"),
                i.of("dev-libs/libdemo").stream().map(BinpkgIndex.Entry::version).toList());
        assertEquals(Set.of("ssl", "static-libs"), i.of("dev-libs/libdemo", "1.3.0").get(0).iuse(),
                "the + of a default is not part of the name");
        assertEquals(List.of(), i.of("app-misc/demo-successor"));
        assertEquals(11, index("Packages.after-master-initial").entries().size());
    }

    @Test
    void read_missingFile_namesIt() {
        BinpkgIndex.Unreadable e = assertThrows(BinpkgIndex.Unreadable.class,
                () -> BinpkgIndex.read(tmp.resolve("Packages"), 1000));
        assertEquals(tmp.resolve("Packages") + ": no such file", e.getMessage());
    }

    @Test
    void read_truncatedCopies_sayWhereTheyWereCut() throws Exception {
        byte[] real = Files.readAllBytes(EMERGE.resolve("Packages.final"));
        String text = new String(real, StandardCharsets.UTF_8);
        Path file = tmp.resolve("Packages");
        // cut inside a line: the last line has no newline
        int cut = text.indexOf("CPV: app-misc/demo-cli-2.0") + 10;
        Files.write(file, java.util.Arrays.copyOf(real, cut));
        int line = (int) text.substring(0, cut).chars().filter(c -> c == '\n').count() + 1;
        assertEquals(file + " line " + line + ": ends in the middle of a line (cut short?)",
                message(file));
        // cut after a whole entry: the header's PACKAGES count tells
        int entryEnd = text.indexOf("\n\n", text.indexOf("CPV: app-misc/demo-cli-2.0")) + 2;
        Files.write(file, java.util.Arrays.copyOf(real, entryEnd));
        assertEquals(file + ": the header says 15 packages, the file has 4 (cut short?)", message(file));
        // only half the header
        Files.write(file, java.util.Arrays.copyOf(real, text.indexOf("KERNEL:")));
        assertEquals(file + " line 12: the block of line 1 has no blank line after it (cut short?)", message(file));
        Files.write(file, java.util.Arrays.copyOf(real, entryEnd - 1));
        int blockStart = text.lastIndexOf("\n\n", cut) + 2;
        int blockLine = (int) text.substring(0, blockStart).chars().filter(c -> c == '\n').count() + 1;
        assertTrue(message(file).endsWith(": the block of line " + blockLine + " has no blank line after it"
                + " (cut short?)"), message(file));
        Files.writeString(file, "\n\n");
        assertEquals(file + ": no header block and no packages (cut short?)", message(file));
        Files.write(file, new byte[0]);
        assertEquals(file + ": empty", message(file));
    }

    @Test
    void read_garbage_namesTheFirstBadLine() throws Exception {
        Path file = tmp.resolve("Packages");
        Files.write(file, new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, '\n'});
        assertEquals(file + ": not UTF-8 text (line 1)", message(file));
        Files.writeString(file, "ARCH: amd64\nPACKAGES: 1\n\nCPV: app-misc/a-1\n<html><body>Not Found</body>\n\n");
        assertEquals(file + " line 5: not 'KEY: value': '<html><body>Not Found</body>'", message(file));
        Files.writeString(file, "ARCH: amd64\nUSE:amd64\n\n");
        assertEquals(file + " line 2: not 'KEY: value': 'USE:amd64'", message(file));
        Files.writeString(file, "ARCH: amd64\nPACKAGES: many\n\n");
        assertEquals(file + ": header PACKAGES is not a number: 'many'", message(file));
    }

    @Test
    void read_entryWithoutOrWithABadCpv_namesItsLine() throws Exception {
        String real = Files.readString(EMERGE.resolve("Packages.after-master-initial"));
        Path file = tmp.resolve("Packages");
        Files.writeString(file, real.replace("CPV: app-misc/demo-broken-1.0\n", ""));
        int blockStart = real.lastIndexOf("\n\n", real.indexOf("CPV: app-misc/demo-broken-1.0")) + 2;
        int blockLine = (int) real.substring(0, blockStart).chars().filter(c -> c == '\n').count() + 1;
        assertEquals(file + " line " + blockLine + ": package entry without CPV", message(file));
        Files.writeString(file, real.replace("CPV: app-misc/demo-broken-1.0", "CPV: demo-broken"));
        assertTrue(message(file).endsWith(": CPV 'demo-broken' is not category/name-version"), message(file));
        Files.writeString(file, real.replaceFirst("(?s)^.*?\n\n", ""));
        assertEquals(file + " line 1: no header block: the file starts with a package (CPV "
                + "app-editors/demo-edit-0.9)", message(file));
    }

    @Test
    void read_largerThanTheCap_isRefusedWithoutReadingItAll() throws Exception {
        Path file = tmp.resolve("Packages");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(3L * 1024 * 1024 * 1024); // sparse: 3 GiB that take no disk
        }
        assertEquals(file + ": larger than the 67108864 bytes the agent reads of an index",
                message(file, BinpkgIndex.DEFAULT_MAX_BYTES));
        Files.copy(EMERGE.resolve("Packages.final"), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        long size = Files.size(file);
        assertEquals(15, BinpkgIndex.read(file, size).entries().size(), "exactly the cap is read");
        assertTrue(message(file, size - 1).contains("larger than the " + (size - 1) + " bytes"));
    }

    @Test
    void read_unreadable_isAnErrorNotAnException() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("Packages"));
        String m = message(dir);
        assertTrue(m.startsWith(dir + ": cannot read: "), m);
    }

    private static String message(Path file) {
        return message(file, BinpkgIndex.DEFAULT_MAX_BYTES);
    }

    private static String message(Path file, long max) {
        return assertThrows(BinpkgIndex.Unreadable.class, () -> BinpkgIndex.read(file, max)).getMessage();
    }
}
