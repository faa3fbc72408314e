package dev.binhost.agent.sync;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What turns the live tree's managed part into a source tree's (the staged master tree, or a backup):
 * directories to create, files to add, change and remove, and 01* directories left empty to remove.
 * Computing it reads only; {@link #apply} writes, one atomic rename per file.
 */
record Plan(List<String> createDirs, List<String> add, List<String> change, List<String> remove,
        List<String> removeDirs) {

    Changes changes() {
        return new Changes(add, change, remove);
    }

    boolean isEmpty() {
        return createDirs.isEmpty() && add.isEmpty() && change.isEmpty() && remove.isEmpty() && removeDirs.isEmpty();
    }

    /**
     * Compares {@code source} (rooted at {@code sourceRoot}) with the live tree. Refuses when the live tree holds
     * something in the way that is not the pull's to replace: a symlink or special file at a managed path, a
     * file where the master has a directory (the slave's own make.conf, say), or the other way round.
     */
    static Plan between(Tree source, Path sourceRoot, Tree live, Path liveRoot, boolean delete)
            throws IOException, PullRefused {
        List<String> problems = new ArrayList<>();
        for (String odd : live.oddEntries()) {
            problems.add("the live tree has " + odd + " where the pull manages files; move it away");
        }
        List<String> createDirs = new ArrayList<>();
        for (String dir : source.dirs()) {
            Path target = liveRoot.resolve(dir);
            if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                problems.add("the live tree has " + Names.escape(dir) + " as a file or symlink but the master has a"
                        + " directory there; move the slave's file into " + Names.escape(dir)
                        + "/ (e.g. as 02local) first");
            } else {
                createDirs.add(dir);
            }
        }
        List<String> add = new ArrayList<>();
        List<String> change = new ArrayList<>();
        Set<String> newDirs = new HashSet<>(createDirs);
        for (String file : source.files().keySet()) {
            Path target = liveRoot.resolve(file);
            int slash = file.lastIndexOf('/');
            if (live.files().containsKey(file)) {
                if (!Tree.sameFile(sourceRoot.resolve(file), target)) {
                    change.add(file);
                }
            } else if (slash > 0 && newDirs.contains(file.substring(0, slash))) {
                add.add(file); // its directory does not exist yet, so nothing can be in the way
            } else if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                if (!live.oddEntries().stream().anyMatch(o -> o.startsWith(Names.escape(file) + " ("))) {
                    problems.add("the live tree has " + Names.escape(file)
                            + " as a directory but the master has a file there");
                }
            } else {
                add.add(file);
            }
        }
        if (!problems.isEmpty()) {
            throw new PullRefused(String.join("; ", problems));
        }
        List<String> remove = new ArrayList<>();
        List<String> removeDirs = new ArrayList<>();
        if (delete) {
            for (String file : live.files().keySet()) {
                if (!source.files().containsKey(file)) {
                    remove.add(file);
                }
            }
            // Only directories that are the master's own (01* or under env/) go; a package.use/ the slave
            // also fills with 02* files stays even when the master drops its copy.
            for (String dir : live.dirs()) {
                String name = dir.substring(dir.lastIndexOf('/') + 1);
                if (!source.dirs().contains(dir) && (name.startsWith("01") || dir.startsWith("env/"))) {
                    removeDirs.add(dir);
                }
            }
            removeDirs.sort(Comparator.comparing(String::length).reversed());
        }
        return new Plan(createDirs, add, change, remove, removeDirs);
    }

    /** A step of the apply that may fail: the flush that makes temps durable, the journal's begin. */
    interface Step {
        void run() throws IOException;
    }

    /** Test seam: thrown where a kill would stop the apply, so nothing after it runs (an Error: no catch sees it). */
    static final class Stopped extends Error {
        Stopped(int renames) {
            super("apply stopped after " + renames + " renames");
        }
    }

    /** Every new or changed file, in the order {@link #apply} renames them. */
    List<String> install() {
        List<String> install = new ArrayList<>(add);
        install.addAll(change);
        return install;
    }

    /** The hidden temp beside a live target that the apply renames over it. */
    static Path tempOf(Path target) {
        return target.resolveSibling("." + target.getFileName() + Tree.TEMP_SUFFIX);
    }

    /**
     * Applies the plan in three phases: every new file gets a hidden temp name beside its target (a hard link to
     * the source when both are on one filesystem, else a copy); one flush makes them durable; then each is renamed
     * over its target. A failure before the renames leaves the live tree as it was (stale temps are removed by
     * the next apply), and the renames run back to back, so portage sees the old set or the new one for all but a
     * moment. Linking is safe because nothing writes a staged or live file in place: rsync replaces a staged file
     * by renaming its own temp file over it, and this method replaces live files by rename. {@code journal} runs
     * after the flush and before the first rename, so a crash in between can be finished from what it records
     * ({@link ApplyJournal}); {@code stopAfterRenames} (tests only; -1 off) stops the apply there.
     */
    void apply(Path sourceRoot, Path liveRoot, List<Path> staleTemps, Step flush, Step journal,
            int stopAfterRenames) throws IOException {
        for (Path stale : staleTemps) {
            Files.deleteIfExists(stale);
        }
        for (String dir : createDirs) {
            Path target = liveRoot.resolve(dir);
            Files.createDirectories(target);
            Files.setPosixFilePermissions(target, Tree.DIR_MODE);
        }
        List<String> install = install();
        List<Path> temps = new ArrayList<>();
        try {
            boolean link = true;
            for (String file : install) {
                Path target = liveRoot.resolve(file);
                Path temp = tempOf(target);
                link = placeTemp(sourceRoot.resolve(file), temp, link);
                temps.add(temp);
            }
            flush.run();
            journal.run();
        } catch (IOException e) {
            for (Path temp : temps) {
                Files.deleteIfExists(temp);
            }
            throw e;
        }
        for (int i = 0; i < install.size(); i++) {
            if (i == stopAfterRenames) {
                throw new Stopped(i);
            }
            Files.move(temps.get(i), liveRoot.resolve(install.get(i)), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        }
        for (String file : remove) {
            Files.deleteIfExists(liveRoot.resolve(file));
        }
        for (String dir : removeDirs) {
            try {
                Files.deleteIfExists(liveRoot.resolve(dir));
            } catch (DirectoryNotEmptyException e) {
                // The slave keeps its own files there; the directory stays.
            }
        }
    }

    /**
     * Gives {@code temp} the source's bytes and mode 0644: a hard link while linking works (no data written
     * twice), a copy once it does not (staging on another filesystem). Returns whether to try linking next time.
     */
    private static boolean placeTemp(Path source, Path temp, boolean link) throws IOException {
        if (link) {
            try {
                try {
                    Files.createLink(temp, source);
                } catch (FileAlreadyExistsException e) {
                    Files.delete(temp);
                    Files.createLink(temp, source);
                }
                // No chmod: every source is 0644 already (rsync's --chmod=F644, or a backup written 0644).
                return true;
            } catch (FileSystemException | UnsupportedOperationException e) {
                // EXDEV (another filesystem) or a filesystem without hard links: copy from here on.
                Files.deleteIfExists(temp);
            }
        }
        Files.copy(source, temp, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(temp, Tree.FILE_MODE);
        return false;
    }
}
