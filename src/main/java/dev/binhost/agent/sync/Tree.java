package dev.binhost.agent.sync;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The managed part of a directory tree: directories and regular files the {@link ConfigRules} include, by path
 * relative to the root. Scanning never follows a symlink.
 */
record Tree(SortedSet<String> dirs, SortedMap<String, Long> files, List<String> oddEntries, List<Path> staleTemps) {
    /** Suffix of the hidden temp files the apply step renames into place; portage ignores dot files. */
    static final String TEMP_SUFFIX = ".binhost-new";

    /**
     * Scans what rsync staged and refuses anything a master should not be able to hand a slave: a symlink,
     * device, fifo or socket; a name with control characters or bytes that are not UTF-8; a path the rules do not
     * include; more files than the count limit; a file over the size limit, or more bytes in all than the total
     * limit (checked here on the staged bytes, never on rsync's output, which a tail may cut).
     */
    static Tree staged(Path root, long maxFileBytes, long maxTotalBytes, int maxFiles) throws IOException,
            PullRefused {
        Tree tree = scan(root, false);
        if (!tree.oddEntries.isEmpty()) {
            throw new PullRefused("the master's tree holds entries that are neither plain files nor directories: "
                    + tree.oddEntries);
        }
        if (tree.files.size() > maxFiles) {
            throw new PullRefused("the master's tree has " + tree.files.size() + " files, more than "
                    + "binhost.sync.max-files (" + maxFiles + ")");
        }
        long total = 0;
        for (var e : tree.files.entrySet()) {
            if (e.getValue() > maxFileBytes) {
                throw new Oversize("the master's file " + Names.escape(e.getKey()) + " has " + e.getValue()
                        + " bytes, more than binhost.sync.max-file-size (" + maxFileBytes + ")");
            }
            total += e.getValue();
        }
        if (total > maxTotalBytes) {
            throw new Oversize("the master's " + tree.files.size() + " files have " + total + " bytes in all, more "
                    + "than binhost.sync.max-total-size (" + maxTotalBytes + ")");
        }
        return tree;
    }

    /** A size refusal: the staged bytes should not stay on disk until the next pull. */
    static final class Oversize extends PullRefused {
        Oversize(String message) {
            super(message);
        }
    }

    /** Scans the live tree: only managed paths; symlinks or special files in managed places are reported. */
    static Tree live(Path root) throws IOException {
        return scan(root, true);
    }

    private static Tree scan(Path root, boolean live) throws IOException {
        SortedSet<String> dirs = new TreeSet<>();
        SortedMap<String, Long> files = new TreeMap<>();
        List<String> odd = new ArrayList<>();
        List<Path> temps = new ArrayList<>();
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return new Tree(dirs, files, odd, temps);
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.equals(root)) {
                    return FileVisitResult.CONTINUE;
                }
                if (!printableName(dir)) {
                    if (!live) {
                        odd.add(unprintable(root, dir));
                    }
                    return FileVisitResult.SKIP_SUBTREE;
                }
                String rel = relative(root, dir);
                if (!ConfigRules.includes(rel, true)) {
                    if (!live) {
                        odd.add(Names.escape(rel) + " (not a path the rules take)");
                    }
                    return FileVisitResult.SKIP_SUBTREE;
                }
                dirs.add(rel);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (!printableName(file)) {
                    if (!live) {
                        odd.add(unprintable(root, file));
                    }
                    return FileVisitResult.CONTINUE;
                }
                String rel = relative(root, file);
                String name = file.getFileName().toString();
                if (live && name.startsWith(".") && name.endsWith(TEMP_SUFFIX)) {
                    temps.add(file);
                    return FileVisitResult.CONTINUE;
                }
                if (!ConfigRules.includes(rel, false)) {
                    if (!live) {
                        odd.add(Names.escape(rel) + " (not a path the rules take)");
                    }
                    return FileVisitResult.CONTINUE;
                }
                if (attrs.isRegularFile()) {
                    files.put(rel, attrs.size());
                } else {
                    odd.add(Names.escape(rel) + (attrs.isSymbolicLink() ? " (symlink)" : " (special file)"));
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return new Tree(dirs, files, odd, temps);
    }

    static String relative(Path root, Path path) {
        return root.relativize(path).toString();
    }

    /**
     * A name the JVM can name by a String (its bytes decode in sun.jnu.encoding) and that holds no control or
     * other unprintable character: portage names never need them, and they would garble logs and terminals.
     */
    private static boolean printableName(Path path) {
        return Names.decodable(path) && Names.printable(path.getFileName().toString());
    }

    /** The refusal line of an unprintable name: its parent (printable, or it was refused) and its escaped bytes. */
    private static String unprintable(Path root, Path path) {
        Path parent = root.relativize(path).getParent();
        return (parent == null ? "" : Names.escape(parent.toString()) + "/")
                + Names.escape(Names.rawName(path), !Names.decodable(path))
                + " (a name with control characters or bytes that are not UTF-8)";
    }

    /** Number of managed files named 01*: the guard against a pull that would remove them all. */
    long masterFiles() {
        return files.keySet().stream().filter(ConfigRules::isMasterFile).count();
    }

    static final Set<PosixFilePermission> FILE_MODE = java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--");
    static final Set<PosixFilePermission> DIR_MODE = java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x");

    /** Same bytes and mode 0644 (a setuid bit or an odd mode on the slave counts as a change). */
    static boolean sameFile(Path source, Path target) throws IOException {
        PosixFileAttributes t = Files.readAttributes(target, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!t.isRegularFile() || !t.permissions().equals(FILE_MODE) || t.size() != Files.size(source)) {
            return false;
        }
        if (Files.getAttribute(target, "unix:mode", LinkOption.NOFOLLOW_LINKS) instanceof Integer mode
                && (mode & 07000) != 0) {
            return false;
        }
        return Files.mismatch(source, target) == -1;
    }
}
