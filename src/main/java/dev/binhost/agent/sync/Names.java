package dev.binhost.agent.sync;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * File names the master supplies, made safe to print: a name reaches logs, the CLI's terminal and JSON, so any
 * byte that is not part of a printable UTF-8 character (control characters, DEL, C1 controls, bidi and other
 * format characters, invalid UTF-8) and the backslash itself are written as {@code \xNN}.
 */
public final class Names {
    private Names() {
    }

    /** The name with every unprintable byte (and backslash) as {@code \xNN}; printable text as it is. */
    public static String escape(String name) {
        return escape(name.getBytes(StandardCharsets.UTF_8));
    }

    /** As {@link #escape(String)}, for a name's raw bytes (which need not be UTF-8). */
    public static String escape(byte[] raw) {
        return escape(raw, false);
    }

    /**
     * As {@link #escape(byte[])}; {@code asciiOnly} escapes every byte over 0x7f too, for a name the JVM could
     * not decode (its locale could not print it either: {@code 01caf\xc3\xa9} under LC_ALL=C).
     */
    static String escape(byte[] raw, boolean asciiOnly) {
        StringBuilder out = new StringBuilder(raw.length + 8);
        int i = 0;
        while (i < raw.length) {
            int len = sequenceLength(raw, i);
            int cp = len > 0 ? new String(raw, i, len, StandardCharsets.UTF_8).codePointAt(0) : -1;
            if (len > 0 && printable(cp) && (!asciiOnly || cp < 0x80)) {
                out.appendCodePoint(cp);
                i += len;
            } else {
                int n = Math.max(len, 1);
                for (int k = 0; k < n; k++) {
                    out.append(String.format("\\x%02x", raw[i + k] & 0xff));
                }
                i += n;
            }
        }
        return out.toString();
    }

    /**
     * An unexpected exception for a log line: its message may carry a master's name, so it is escaped, and the
     * frame it came from stands in for the stack trace (which would print the message raw).
     */
    static String describe(Throwable e) {
        StackTraceElement[] at = e.getStackTrace();
        return escape(String.valueOf(e)) + (at.length == 0 ? "" : " at " + at[0]);
    }

    /** Valid UTF-8 of printable characters only; a backslash counts as printable (it is only escaped). */
    static boolean printable(byte[] raw) {
        try {
            String s = strictUtf8().decode(ByteBuffer.wrap(raw)).toString();
            return s.codePoints().allMatch(cp -> cp == '\\' || printable(cp));
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** As {@link #printable(byte[])} for a decoded name. */
    static boolean printable(String name) {
        return name.codePoints().allMatch(cp -> cp == '\\' || printable(cp));
    }

    /**
     * Whether the JVM can name this file by a String: a name whose bytes do not decode in the JVM's file-name
     * encoding (sun.jnu.encoding; ASCII under LC_ALL=C) turns into a different name or an InvalidPathException.
     */
    static boolean decodable(Path file) {
        Path name = file.getFileName();
        try {
            return name.getFileSystem().getPath(name.toString()).equals(name);
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /** The raw bytes of a file's name, whatever the locale: a file URI percent-encodes them exactly. */
    static byte[] rawName(Path file) {
        String path = file.toUri().getRawPath();
        if (path.endsWith("/") && path.length() > 1) {
            path = path.substring(0, path.length() - 1);
        }
        String last = path.substring(path.lastIndexOf('/') + 1);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < last.length(); i++) {
            char c = last.charAt(i);
            if (c == '%' && i + 2 < last.length()) {
                bytes.write(Integer.parseInt(last.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        return bytes.toByteArray();
    }

    private static CharsetDecoder strictUtf8() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    private static boolean printable(int cp) {
        if (cp == '\\' || Character.isISOControl(cp)) {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.FORMAT, Character.UNASSIGNED, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }

    /** Length of the well-formed UTF-8 sequence at {@code i}, or 0 when the bytes there are not one. */
    private static int sequenceLength(byte[] raw, int i) {
        int b = raw[i] & 0xff;
        int len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3
                : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
        if (len == 0 || i + len > raw.length) {
            return 0;
        }
        try {
            strictUtf8().decode(ByteBuffer.wrap(raw, i, len));
            return len;
        } catch (CharacterCodingException e) {
            return 0;
        }
    }
}
