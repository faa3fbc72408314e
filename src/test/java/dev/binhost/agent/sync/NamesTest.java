package dev.binhost.agent.sync;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NamesTest {
    @TempDir
    Path dir;

    @Test
    void escape_keepsPrintableNamesAsTheyAre() {
        assertEquals("package.use/01master", Names.escape("package.use/01master"));
        assertEquals("01ünïcödé 01a b", Names.escape("01ünïcödé 01a b"));
    }

    @Test
    void escape_writesControlCharactersDelAndBackslashAsHexBytes() {
        assertEquals("01evil\\x1b[31mred", Names.escape("01evil\u001b[31mred"));
        assertEquals("01two\\x0alines\\x0d", Names.escape("01two\nlines\r"));
        assertEquals("01del\\x7f", Names.escape("01del\u007f"));
        assertEquals("01back\\x5cslash", Names.escape("01back\\slash"));
    }

    @Test
    void escape_writesC1ControlsAndBidiOverridesAsTheirUtf8Bytes() {
        assertEquals("01\\xc2\\x85next", Names.escape("01\u0085next"));
        assertEquals("01\\xe2\\x80\\xaetxt", Names.escape("01\u202etxt"));
    }

    @Test
    void escape_ofRawBytes_writesBytesThatAreNotUtf8AsHex() {
        byte[] latin1 = {'0', '1', 'c', 'a', 'f', (byte) 0xe9};
        assertEquals("01caf\\xe9", Names.escape(latin1));
        assertEquals("01café", Names.escape("01café".getBytes(StandardCharsets.UTF_8)));
        assertEquals("01\\xc3", Names.escape(new byte[] {'0', '1', (byte) 0xc3}), "a truncated sequence");
        assertEquals("01caf\\xc3\\xa9", Names.escape("01café".getBytes(StandardCharsets.UTF_8), true),
                "a name the JVM's locale cannot decode is shown in ASCII");
    }

    @Test
    void printable_isFalseForControlsAndInvalidUtf8_trueForBackslashAndUnicode() {
        assertTrue(Names.printable("01café".getBytes(StandardCharsets.UTF_8)));
        assertTrue(Names.printable("01back\\slash".getBytes(StandardCharsets.UTF_8)));
        assertFalse(Names.printable("01evil\u001b[31m".getBytes(StandardCharsets.UTF_8)));
        assertFalse(Names.printable(new byte[] {'0', '1', (byte) 0xe9}));
        assertFalse(Names.printable("01\u202e".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void describe_ofAnExceptionCarryingAMasterName_escapesItsMessage() {
        String line = Names.describe(new IllegalStateException("bad name 01\u001b]0;pwned\u0007"));
        assertTrue(line.startsWith("java.lang.IllegalStateException: bad name 01\\x1b]0;pwned\\x07 at "), line);
    }

    @Test
    void rawName_ofAFileWhoseNameIsNotUtf8_givesItsBytesAndSaysJavaCannotNameIt() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "touch \"$(printf '01caf\\351')\" 01café").directory(dir.toFile())
                .inheritIO().start();
        assertEquals(0, p.waitFor());
        try (Stream<Path> s = Files.list(dir)) {
            for (Path file : s.toList()) {
                byte[] raw = Names.rawName(file);
                if (raw.length == 6) {
                    assertArrayEquals(new byte[] {'0', '1', 'c', 'a', 'f', (byte) 0xe9}, raw);
                    assertFalse(Names.decodable(file), "the JVM cannot name this file by a String");
                } else {
                    assertArrayEquals("01café".getBytes(StandardCharsets.UTF_8), raw);
                    assertTrue(Names.decodable(file));
                }
            }
        }
    }
}
