package dev.binhost.agent.portage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Packages} index of a PKGDIR, as Portage writes it for its binary packages: a header block
 * ({@code ARCH}, {@code CHOST}, {@code ACCEPT_KEYWORDS}, {@code PACKAGES}, {@code TIMESTAMP}, {@code VERSION}, …),
 * then one block per binary package ({@code CPV}, {@code USE}, {@code IUSE}, {@code BUILD_ID}, {@code SLOT},
 * {@code PATH}, {@code MD5}, …), blocks separated by a blank line, each line {@code KEY: value}. An entry that
 * lacks {@code CHOST} or {@code REPO} has the header's, as in Portage.
 *
 * <p>It tells the agent which versions the master has built, with which USE flags and for which CHOST, so a
 * package compiled here can be explained exactly. Read from a file the master writes and a share that can break,
 * so it is checked more strictly than Portage does: a line that is not {@code KEY: value}, an entry without a
 * CPV or with one that is not category/name-version, a file cut short (not ending in a newline, or fewer entries
 * than its {@code PACKAGES} says), text that is not UTF-8 or a file larger than the cap are {@link Unreadable},
 * with a message naming the file and the line.
 */
public record BinpkgIndex(String source, Map<String, String> header, List<Entry> entries) {

    /** The size read at most by default: a Packages of 10,000 binaries is about 15 MiB. */
    public static final long DEFAULT_MAX_BYTES = 64L * 1024 * 1024;

    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern CPV = Pattern.compile(
            "^(?<atom>[A-Za-z0-9+_][A-Za-z0-9+_.-]*/[A-Za-z0-9+_][A-Za-z0-9+_-]*?)"
                    + "-(?<ver>\\d+(?:\\.\\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\\d*)*(?:-r\\d+)?)$");

    /** The index could not be used; the message names the file and, where one is to blame, the line. */
    public static final class Unreadable extends Exception {
        public Unreadable(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * One binary package.
     *
     * @param line   the line its block starts on, for messages
     * @param fields every {@code KEY: value} of the block, the header's CHOST and REPO added where it has none
     */
    public record Entry(int line, String cpv, String atom, String version, Map<String, String> fields) {
        public Entry {
            fields = Map.copyOf(fields);
        }

        public String get(String key) {
            return fields.getOrDefault(key, "");
        }

        /** The BUILD_ID (binpkg-multi-instance), when it has one. */
        public OptionalInt buildId() {
            try {
                return get("BUILD_ID").isEmpty() ? OptionalInt.empty()
                        : OptionalInt.of(Integer.parseInt(get("BUILD_ID")));
            } catch (NumberFormatException e) {
                return OptionalInt.empty();
            }
        }

        /** The flags it was built with: USE, which also holds the implicit ones (amd64, elibc_glibc, …). */
        public Set<String> use() {
            return words(get("USE"));
        }

        /** The flags it declares, without the +/- of their defaults. */
        public Set<String> iuse() {
            Set<String> out = new LinkedHashSet<>();
            for (String f : words(get("IUSE"))) {
                out.add(f.startsWith("+") || f.startsWith("-") ? f.substring(1) : f);
            }
            return out;
        }

        public String chost() {
            return get("CHOST");
        }

        /** "app-misc/demo-cli-2.0-2", "app-misc/demo-cli-2.0" without a BUILD_ID. */
        public String shown() {
            return cpv + (buildId().isPresent() ? "-" + buildId().getAsInt() : "");
        }
    }

    public BinpkgIndex {
        header = Map.copyOf(header);
        entries = List.copyOf(entries);
    }

    /** The entries of one package (category/name), any version. */
    public List<Entry> of(String atom) {
        return entries.stream().filter(e -> e.atom().equals(atom)).toList();
    }

    /** The entries of one version: several with binpkg-multi-instance, newest BUILD_ID first. */
    public List<Entry> of(String atom, String version) {
        return entries.stream().filter(e -> e.atom().equals(atom) && e.version().equals(version))
                .sorted(Comparator.comparingInt((Entry e) -> e.buildId().orElse(0)).reversed()).toList();
    }

    /** The header's ARCH (the master's), if it says. */
    public Optional<String> arch() {
        return Optional.ofNullable(header.get("ARCH")).filter(s -> !s.isBlank());
    }

    /** Reads {@code file}, at most {@code maxBytes} of it; a larger file is refused, not cut. */
    public static BinpkgIndex read(Path file, long maxBytes) throws Unreadable {
        byte[] bytes;
        try {
            if (Files.isRegularFile(file) && Files.size(file) > maxBytes) {
                throw new Unreadable(file + ": larger than the " + maxBytes + " bytes the agent reads of an index");
            }
        } catch (IOException e) {
            // read below, which says what is wrong
        }
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        } catch (NoSuchFileException e) {
            throw new Unreadable(file + ": no such file");
        } catch (IOException e) {
            throw new Unreadable(file + ": cannot read: " + e.getMessage());
        }
        if (bytes.length > maxBytes) {
            throw new Unreadable(file + ": larger than the " + maxBytes + " bytes the agent reads of an index");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new Unreadable(file + ": not UTF-8 text (line " + lineAt(bytes) + ")");
        }
        return parse(file.toString(), text);
    }

    /** Parses the text of an index; {@code source} names it in messages. */
    public static BinpkgIndex parse(String source, String text) throws Unreadable {
        if (text.isEmpty()) {
            throw new Unreadable(source + ": empty");
        }
        String[] lines = text.split("\n", -1);
        // a complete file ends with a newline: the last element of the split is then ""
        if (!lines[lines.length - 1].isEmpty()) {
            throw new Unreadable(source + " line " + lines.length + ": ends in the middle of a line (cut short?)");
        }
        Map<String, String> header = null;
        List<Entry> entries = new ArrayList<>();
        Map<String, String> block = new LinkedHashMap<>();
        int blockStart = 0;
        for (int i = 0; i < lines.length - 1; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            int n = i + 1;
            if (line.isEmpty()) {
                if (!block.isEmpty()) {
                    if (header == null) {
                        if (block.containsKey("CPV")) {
                            throw new Unreadable(source + " line " + blockStart
                                    + ": no header block: the file starts with a package (CPV " + block.get("CPV")
                                    + ")");
                        }
                        header = block;
                    } else {
                        entries.add(entry(source, blockStart, block, header));
                    }
                    block = new LinkedHashMap<>();
                }
                continue;
            }
            if (block.isEmpty()) {
                blockStart = n;
            }
            int colon = line.indexOf(':');
            String key = colon < 0 ? "" : line.substring(0, colon);
            if (!KEY.matcher(key).matches() || (colon + 1 < line.length() && line.charAt(colon + 1) != ' ')) {
                throw new Unreadable(source + " line " + n + ": not 'KEY: value': '" + shorten(line) + "'");
            }
            block.put(key, colon + 2 <= line.length() ? line.substring(colon + 2) : "");
        }
        if (!block.isEmpty()) {
            // Portage ends every block, the last one too, with a blank line
            throw new Unreadable(source + " line " + (lines.length - 1) + ": the block of line " + blockStart
                    + " has no blank line after it (cut short?)");
        }
        if (header == null) {
            throw new Unreadable(source + ": no header block and no packages (cut short?)");
        }
        String declared = header.get("PACKAGES");
        if (declared != null) {
            int count;
            try {
                count = Integer.parseInt(declared.strip());
            } catch (NumberFormatException e) {
                throw new Unreadable(source + ": header PACKAGES is not a number: '" + shorten(declared) + "'");
            }
            if (count != entries.size()) {
                throw new Unreadable(source + ": the header says " + count + " packages, the file has "
                        + entries.size() + (entries.size() < count ? " (cut short?)" : ""));
            }
        }
        return new BinpkgIndex(source, header, entries);
    }

    private static Entry entry(String source, int line, Map<String, String> block, Map<String, String> header)
            throws Unreadable {
        String cpv = block.get("CPV");
        if (cpv == null || cpv.isBlank()) {
            throw new Unreadable(source + " line " + line + ": package entry without CPV");
        }
        Matcher m = CPV.matcher(cpv.strip());
        if (!m.matches()) {
            throw new Unreadable(source + " line " + line + ": CPV '" + shorten(cpv)
                    + "' is not category/name-version");
        }
        Map<String, String> fields = new LinkedHashMap<>(block);
        for (String inherited : List.of("CHOST", "REPO")) {
            if (fields.getOrDefault(inherited, "").isEmpty() && header.containsKey(inherited)) {
                fields.put(inherited, header.get(inherited));
            }
        }
        return new Entry(line, cpv.strip(), m.group("atom"), m.group("ver"), fields);
    }

    private static Set<String> words(String s) {
        Set<String> out = new LinkedHashSet<>();
        Arrays.stream(s.strip().split("\\s+")).filter(w -> !w.isEmpty()).forEach(out::add);
        return out;
    }

    private static String shorten(String s) {
        String printable = s.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= 60 ? printable : printable.substring(0, 60) + "…";
    }

    /** The line of the first byte that is not UTF-8. */
    private static int lineAt(byte[] bytes) {
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        int line = 1;
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == '\n') {
                try {
                    decoder.reset().decode(ByteBuffer.wrap(bytes, start, i - start));
                } catch (CharacterCodingException e) {
                    return line;
                }
                line++;
                start = i + 1;
            }
        }
        return line;
    }
}
