package dev.binhost.agent.config;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The directories the agent deletes in (staging, backup) must be its own: created by it and marked with a
 * {@value #MARKER} file naming what they are for. A path an admin points at {@code /etc} or the state dir
 * is then refused instead of emptied by {@code rsync --delete} or a backup rotation.
 */
public final class OwnedDir {
    public static final String MARKER = ".binhost-agent-owned";

    /** Adopts nothing: only an empty or marked directory is the agent's. */
    public static final Predicate<Set<String>> NOTHING_ELSE = names -> false;

    private OwnedDir() {
    }

    /** How the agent uses a configured path; decides which overlaps are refused. */
    public enum Kind {
        /** The agent deletes inside it: must carry the marker and overlap nothing (it may lie inside a WORK dir). */
        OWNED,
        /** The agent writes its own files there by fixed names (state dir, log dir, socket dir). */
        WORK,
        /** Someone else's tree the agent changes file by file or mounts over (portage dir, mount targets). */
        LIVE
    }

    /** One configured path, with the key that set it. */
    public record Use(String key, Path path, Kind kind, Predicate<Set<String>> adoptable) {
        public static Use of(String key, Path path, Kind kind) {
            return new Use(key, path, kind, NOTHING_ELSE);
        }
    }

    /**
     * One "key: why" line per path that is not the agent's to delete in, or that overlaps another: an OWNED
     * path overlapping anything (except lying inside a WORK dir, as the backup inside the state dir does), or
     * a WORK path equal to or inside a LIVE one.
     */
    public static List<String> problems(List<Use> uses) {
        List<String> problems = new ArrayList<>();
        for (Use u : uses) {
            if (u.kind() == Kind.OWNED) {
                problem(u.path(), u.adoptable()).ifPresent(why -> problems.add(u.key() + ": " + why));
            }
        }
        for (int i = 0; i < uses.size(); i++) {
            for (int j = i + 1; j < uses.size(); j++) {
                Use a = uses.get(i);
                Use b = uses.get(j);
                if (!overlap(a.path(), b.path())) {
                    continue;
                }
                conflict(a, b).or(() -> conflict(b, a)).ifPresent(problems::add);
            }
        }
        return problems;
    }

    /** The problem of {@code a} overlapping {@code b}, reported against {@code a}'s key, if {@code a} is to blame. */
    private static Optional<String> conflict(Use a, Use b) {
        boolean equal = real(a.path()).equals(real(b.path()));
        boolean inside = real(a.path()).startsWith(real(b.path())) && !equal;
        String where = equal ? "is the same directory as " : inside ? "lies inside " : "contains ";
        String line = a.key() + ": " + a.path() + " " + where + b.key() + " (" + b.path() + ")";
        if (a.kind() == Kind.OWNED && !(inside && b.kind() == Kind.WORK)) {
            return Optional.of(line + "; the agent deletes inside " + a.key() + ", so it must be a directory of"
                    + " its own");
        }
        if (a.kind() == Kind.WORK && b.kind() == Kind.LIVE && (equal || inside)) {
            return Optional.of(line + "; the agent's own files must not land in that tree");
        }
        return Optional.empty();
    }

    /** Why {@code dir} is not (or cannot become) the agent's, or empty when it is, or may be claimed. */
    public static Optional<String> problem(Path dir, Predicate<Set<String>> adoptable) {
        if (Files.isSymbolicLink(dir)) {
            return Optional.of(dir + " is a symlink; give the real directory");
        }
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of(dir + " exists and is not a directory");
        }
        Set<String> names;
        try {
            names = names(dir);
        } catch (IOException e) {
            return Optional.of("cannot read " + dir + ": " + e.getMessage());
        }
        if (names.isEmpty() || names.contains(MARKER) || adoptable.test(names)) {
            return Optional.empty();
        }
        return Optional.of(dir + " is not empty and not the agent's (no " + MARKER
                + "); the agent deletes inside this directory, so give it one of its own");
    }

    /**
     * Creates and marks {@code dir}, or verifies that it is the agent's. An empty directory, or one whose names
     * {@code adoptable} accepts (a layout an older agent left without marker), is marked and taken.
     */
    public static void claim(Path dir, String purpose, Predicate<Set<String>> adoptable) throws IOException {
        Optional<String> why = problem(dir, adoptable);
        if (why.isPresent()) {
            throw new IOException("refused: " + why.get());
        }
        Files.createDirectories(dir);
        Path marker = dir.resolve(MARKER);
        if (!Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
            Files.writeString(marker, "binhost-agent: " + purpose + "; the agent may delete everything here\n");
        }
    }

    public static void claim(Path dir, String purpose) throws IOException {
        claim(dir, purpose, NOTHING_ELSE);
    }

    /** Deletes {@code dir} and everything in it, only when it carries the marker; a missing dir is fine. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                || !Files.isRegularFile(dir.resolve(MARKER), LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("refused to delete " + dir + ": not the agent's (no " + MARKER + ")");
        }
        walkAndDelete(dir);
    }

    /**
     * Deletes {@code sub} (a directory below {@code owned}, such as rsync's tree in the staging dir) when
     * {@code owned} carries the marker; {@code owned} and its marker stay.
     */
    public static void deleteInside(Path owned, Path sub) throws IOException {
        Path o = owned.toAbsolutePath().normalize();
        Path s = sub.toAbsolutePath().normalize();
        if (!s.startsWith(o) || s.equals(o)) {
            throw new IOException("refused to delete " + sub + ": not below " + owned);
        }
        if (!Files.isRegularFile(o.resolve(MARKER), LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("refused to delete " + sub + ": " + owned + " is not the agent's (no " + MARKER + ")");
        }
        if (Files.exists(s, LinkOption.NOFOLLOW_LINKS)) {
            walkAndDelete(s);
        }
    }

    /** Deletes a tree without looking for a marker: only for tests' own temp trees and the two methods above. */
    public static void walkAndDelete(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Whether {@code a} and {@code b} overlap: equal, or one inside the other. Both are made absolute and
     * normal; symlinks in existing parents are resolved so {@code /etc -> /x} cannot hide an overlap.
     */
    public static boolean overlap(Path a, Path b) {
        Path x = real(a);
        Path y = real(b);
        return x.startsWith(y) || y.startsWith(x);
    }

    /** The path with its longest existing prefix resolved through symlinks. */
    public static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path rest = Path.of("");
        for (Path cur = abs; cur != null; cur = cur.getParent()) {
            try {
                return cur.toRealPath().resolve(rest).normalize();
            } catch (NoSuchFileException e) {
                rest = cur.getFileName() == null ? rest : cur.getFileName().resolve(rest);
            } catch (IOException e) {
                return abs;
            }
        }
        return abs;
    }

    private static Set<String> names(Path dir) throws IOException {
        Set<String> names = new HashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                names.add(e.getFileName().toString());
            }
        }
        return names;
    }
}
