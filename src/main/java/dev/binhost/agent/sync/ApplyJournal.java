package dev.binhost.agent.sync;

import dev.binhost.agent.state.DurableFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The record of an apply between its first rename and its last: the live root, every file to install (each has
 * a durable hidden temp beside its target when this is written), every file and directory to remove, and where
 * the backup of the set being replaced waits to be rotated in. Written to a temp file, fsynced, renamed into
 * place and the directory fsynced before the first rename; deleted after the backup is rotated. A journal on
 * disk therefore always describes an apply that can be finished: every name it lists was checked before it was
 * written, so names are one per line.
 */
final class ApplyJournal {
    private static final String HEADER = "binhost-agent config apply journal 1";
    private static final String END = "end";

    /** What an interrupted apply was doing; paths relative to {@code live}. */
    record Entry(Path live, Path backupNext, List<String> install, List<String> remove, List<String> removeDirs) {
    }

    private final Path file;

    ApplyJournal(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    boolean exists() {
        return Files.exists(file);
    }

    /** Makes the journal durable; on any failure none is left, so no half-described apply can be replayed. */
    void begin(Path live, Path backupNext, Plan plan) throws IOException {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        text.append("live ").append(live).append('\n');
        text.append("backup ").append(backupNext).append('\n');
        plan.install().forEach(f -> text.append("install ").append(f).append('\n'));
        plan.remove().forEach(f -> text.append("remove ").append(f).append('\n'));
        plan.removeDirs().forEach(d -> text.append("rmdir ").append(d).append('\n'));
        text.append(END).append('\n');
        try {
            DurableFile.replace(file, text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /** The apply is complete (backup rotated): the journal goes. */
    void end() throws IOException {
        Files.deleteIfExists(file);
        DurableFile.fsyncDir(file.getParent());
    }

    /** The journal of an interrupted apply, or empty when there is none. */
    Optional<Entry> read() throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        // Renamed into place only when complete, so a torn journal means a damaged disk, not a crash.
        if (lines.size() < 4 || !lines.get(0).equals(HEADER) || !lines.get(lines.size() - 1).equals(END)
                || !lines.get(1).startsWith("live ") || !lines.get(2).startsWith("backup ")) {
            throw new IOException("the apply journal " + file + " is damaged; check " + lines.size()
                    + " lines by hand");
        }
        List<String> install = new ArrayList<>();
        List<String> remove = new ArrayList<>();
        List<String> removeDirs = new ArrayList<>();
        for (String line : lines.subList(3, lines.size() - 1)) {
            int space = line.indexOf(' ');
            String kind = space < 0 ? line : line.substring(0, space);
            String rel = space < 0 ? "" : line.substring(space + 1);
            switch (kind) {
                case "install" -> install.add(rel);
                case "remove" -> remove.add(rel);
                case "rmdir" -> removeDirs.add(rel);
                default -> throw new IOException("the apply journal " + file + " has an unknown line: "
                        + Names.escape(line));
            }
        }
        return Optional.of(new Entry(Path.of(lines.get(1).substring(5)), Path.of(lines.get(2).substring(7)),
                install, remove, removeDirs));
    }
}
