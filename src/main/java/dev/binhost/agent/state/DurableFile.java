package dev.binhost.agent.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The one way the agent replaces a file it owns (history, run marker, apply journal, stamps, owned mounts): the
 * bytes go to a sibling temp file, which is fsynced and renamed over the file, and then the directory is fsynced.
 * After a crash the file holds the old bytes or the new ones, never a mix, and the new ones survive power loss.
 */
public final class DurableFile {
    private DurableFile() {
    }

    /** Replaces {@code file}'s content with {@code bytes}; on failure the old file stays and no temp is left. */
    public static void replace(Path file, byte[] bytes) throws IOException {
        replace(file, bytes, file.resolveSibling(file.getFileName() + ".new"), null);
    }

    /**
     * Replaces a file in a directory another program reads as a whole (Portage's {@code binrepos.conf/}): the
     * temp file is hidden ({@code .name.new}, which Portage skips) and gets {@code mode} before any byte is in it.
     */
    public static void replaceIn(Path file, byte[] bytes, Set<PosixFilePermission> mode) throws IOException {
        replace(file, bytes, file.resolveSibling("." + file.getFileName() + ".new"), mode);
    }

    private static void replace(Path file, byte[] bytes, Path temp, Set<PosixFilePermission> mode)
            throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        try {
            Files.deleteIfExists(temp);
            FileAttribute<?>[] attrs = mode == null ? new FileAttribute<?>[0]
                    : new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)};
            try (FileChannel ch = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING), attrs)) {
                if (mode != null) {
                    Files.setPosixFilePermissions(temp, mode); // the umask may have taken bits away
                }
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the directory " + dir + " cannot rename atomically", e);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        fsyncDir(dir);
    }

    /** Makes a rename or a removal in {@code dir} durable. */
    public static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
