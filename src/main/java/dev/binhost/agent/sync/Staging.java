package dev.binhost.agent.sync;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * What a pull may put on disk in staging: room on the filesystem before rsync starts, the staged total while it
 * runs (rsync's temporary files included), and what may stay after a pull that did not apply.
 */
final class Staging {
    /**
     * A pull needs free space for twice binhost.sync.max-total-size on the staging filesystem: rsync writes each
     * changed file beside the staged copy before it renames it over, and the watch stops rsync only at its next
     * look, so the staged tree can pass the limit by what rsync writes between two looks.
     */
    static final int ROOM_FACTOR = 2;

    private Staging() {
    }

    /** The filesystem a path is on, as {@code df} names it, and the bytes an unprivileged user may still write. */
    record Space(String filesystem, long available) {
    }

    /** Where free space comes from: the real filesystem, or a test's figures. */
    @FunctionalInterface
    interface FreeSpace {
        /** The space of the filesystem holding {@code dir} (an existing directory). */
        Space of(Path dir) throws IOException;

        /**
         * {@code df}'s Avail: root's reserved blocks are never counted, so a pull never eats into the reserve
         * that keeps a full root filesystem usable.
         */
        FreeSpace REAL = dir -> {
            FileStore store = Files.getFileStore(dir);
            return new Space(store.toString(), store.getUsableSpace());
        };
    }

    /** What a staged tree holds on disk: regular files, their bytes, the largest one. */
    record Measure(int files, long bytes, long largest) {
        /** Small enough to keep for the next pull's rsync to reuse. */
        boolean within(long maxFileBytes, long maxTotalBytes, int maxFiles) {
            return files <= maxFiles && bytes <= maxTotalBytes && largest <= maxFileBytes;
        }
    }

    /**
     * Measures {@code root} while rsync may still write in it: a file renamed or removed between listing and
     * reading is skipped, symlinks are not followed. A missing root holds nothing.
     */
    static Measure measure(Path root) throws IOException {
        long[] m = new long[3];
        if (!Files.isDirectory(root)) {
            return new Measure(0, 0, 0);
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    m[0]++;
                    m[1] += attrs.size();
                    m[2] = Math.max(m[2], attrs.size());
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        return new Measure((int) Math.min(Integer.MAX_VALUE, m[0]), m[1], m[2]);
    }

    /** {@link #measure}, for the watch's look, where an I/O error is a fault of the pull. */
    static Measure measureNow(Path root) {
        try {
            return measure(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Why the pull must not start for lack of room, or empty: {@code staging} needs {@link #ROOM_FACTOR} times
     * {@code maxTotalBytes}; the live tree, when on another filesystem (the apply then copies instead of
     * linking), room for one whole staged tree.
     */
    static Optional<String> noRoom(FreeSpace space, Path staging, Path live, long maxTotalBytes) throws IOException {
        Space s = space.of(staging);
        long needed = multiply(maxTotalBytes, ROOM_FACTOR);
        if (s.available() < needed) {
            return Optional.of("the filesystem " + s.filesystem() + " holding the staging dir " + staging + " has "
                    + mib(s.available()) + " available, less than the " + mib(needed) + " a pull may stage ("
                    + ROOM_FACTOR + " x binhost.sync.max-total-size, " + maxTotalBytes + " bytes)");
        }
        Path liveDir = existing(live);
        Space l = space.of(liveDir);
        if (!l.filesystem().equals(s.filesystem()) && l.available() < maxTotalBytes) {
            return Optional.of("the filesystem " + l.filesystem() + " holding the portage dir " + live + " has "
                    + mib(l.available()) + " available, less than binhost.sync.max-total-size ("
                    + mib(maxTotalBytes) + "), which the apply may copy there from the staging dir");
        }
        return Optional.empty();
    }

    /** The path, or its nearest existing parent (a first pull creates the portage dir). */
    static Path existing(Path p) {
        Path at = p.toAbsolutePath();
        while (at.getParent() != null && !Files.isDirectory(at)) {
            at = at.getParent();
        }
        return at;
    }

    private static long multiply(long a, int b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Bytes as MiB with one decimal, and the exact count: "12.5 MiB (13107200 bytes)". */
    static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB (%d bytes)", bytes / 1048576.0, bytes);
    }
}
