package dev.binhost.agent.mount;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The mount table of this process's mount namespace, parsed from {@code /proc/self/mountinfo}. Reading that file
 * never touches a mounted file system, so it is safe even when an NFS server is dead.
 */
public record MountTable(List<MountEntry> entries) {

    public MountTable {
        entries = List.copyOf(entries);
    }

    /**
     * Parses mountinfo text. Lines are in mount order, so when several mounts share a mount point the last one
     * is the one a path lookup sees. Octal escapes ({@code \040} for a space) are decoded.
     *
     * @throws IllegalArgumentException naming the line number when a line does not have mountinfo's shape
     */
    public static MountTable parse(String text) {
        List<MountEntry> entries = new ArrayList<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (!line.isEmpty()) {
                entries.add(parseLine(line, i + 1));
            }
        }
        return new MountTable(entries);
    }

    private static MountEntry parseLine(String line, int number) {
        String[] f = line.split(" +");
        int separator = Arrays.asList(f).indexOf("-");
        if (f.length < 10 || separator < 6 || f.length < separator + 3) {
            throw new IllegalArgumentException("mountinfo line " + number + " is not in mountinfo format: " + line);
        }
        try {
            return new MountEntry(
                    Integer.parseInt(f[0]),
                    Integer.parseInt(f[1]),
                    f[2],
                    unescape(f[3]),
                    Path.of(unescape(f[4])),
                    List.of(f[5].split(",")),
                    List.of(f).subList(6, separator),
                    unescape(f[separator + 1]),
                    unescape(f[separator + 2]),
                    separator + 3 < f.length ? List.of(f[separator + 3].split(",")) : List.of());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("mountinfo line " + number + " has a non-numeric mount id: " + line, e);
        }
    }

    /** Decodes the kernel's octal escapes of space, tab, newline and backslash (\040, \011, \012, \134). */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }

    /** The mount a lookup of {@code mountPoint} sees: the last one mounted exactly there. */
    public Optional<MountEntry> at(Path mountPoint) {
        Path want = mountPoint.toAbsolutePath().normalize();
        MountEntry visible = null;
        for (MountEntry e : entries) {
            if (e.mountPoint().equals(want)) {
                visible = e;
            }
        }
        return Optional.ofNullable(visible);
    }

    /** The mount whose tree holds {@code path}: the deepest mount point above it, last mounted wins. */
    public Optional<MountEntry> containing(Path path) {
        Path want = path.toAbsolutePath().normalize();
        MountEntry best = null;
        for (MountEntry e : entries) {
            if (want.startsWith(e.mountPoint())
                    && (best == null || e.mountPoint().getNameCount() >= best.mountPoint().getNameCount())) {
                best = e;
            }
        }
        return Optional.ofNullable(best);
    }

    public Optional<MountEntry> byId(int mountId) {
        return entries.stream().filter(e -> e.mountId() == mountId).findFirst();
    }
}
