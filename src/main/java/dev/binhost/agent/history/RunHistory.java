package dev.binhost.agent.history;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.binhost.agent.state.DurableFile;
import dev.binhost.agent.state.Json;
import io.quarkus.logging.Log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;

/**
 * Every update run, one JSON object per line in the state directory.
 *
 * <p>An append is one write of a whole line followed by fsync; a write that fails part-way (a full disk) is cut back
 * off at once, so only a crash can leave a torn last line:
 * the reader skips it and the next append cuts it off first. Retention rewrites the kept lines into a
 * temporary file, fsyncs it and renames it over the history, so the file is always either the old or the new.
 */
public class RunHistory {

    private final Path file;
    private final int keep;
    private int lines = -1;
    private List<Integer> skippedLines = List.of();
    /** The newest record, once known (read or appended): status asks for it often, and must not read the file. */
    private java.util.Optional<RunRecord> last;
    /** Bad lines already warned about (number and content), so re-reads do not repeat the warning. */
    private final Set<String> warned = new HashSet<>();

    public RunHistory(Path file, int keep) {
        this.file = file;
        this.keep = keep;
    }

    public Path file() {
        return file;
    }

    /** The record as the single JSON line the history stores (also what the notify command gets). */
    public static String json(RunRecord record) {
        try {
            return Json.mapper().writeValueAsString(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("run record not serialisable", e);
        }
    }

    /** Appends and fsyncs one record; trims the history to the newest {@code keep} records when it grew past. */
    public synchronized void append(RunRecord record) throws IOException {
        byte[] line = (json(record) + "\n").getBytes(StandardCharsets.UTF_8);
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            long size = ch.size();
            long end = completeLinesEnd(ch, size);
            if (end < size) {
                Log.warnf("Run history %s ended in a torn line (%d bytes); cut it off", file, size - end);
                ch.truncate(end);
            }
            ch.position(end);
            ByteBuffer buf = ByteBuffer.wrap(line);
            try {
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            } catch (IOException e) {
                // A full disk lets part of the line in: take it back, so the file keeps only whole records.
                try {
                    ch.truncate(end);
                    ch.force(true);
                } catch (IOException again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
        }
        last = java.util.Optional.of(record);
        if (lines < 0) {
            lines = read().size();
        } else {
            lines++;
        }
        if (lines > keep) {
            trim();
        }
    }

    /**
     * All usable records, oldest first. A torn, garbled or unusable line (bad JSON, binary junk, a missing or
     * malformed field) is skipped with one warning naming the file and line: a bad line must never stop the agent.
     */
    public synchronized List<RunRecord> read() {
        List<RunRecord> out = new ArrayList<>();
        List<Integer> skipped = new ArrayList<>();
        skippedLines = skipped;
        if (!Files.exists(file)) {
            last = java.util.Optional.empty();
            return out;
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read run history " + file, e);
        }
        // decoded leniently: invalid UTF-8 in one line must not make the whole file unreadable
        String[] all = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        for (int i = 0; i < all.length; i++) {
            String l = all[i];
            if (l.isBlank()) {
                continue;
            }
            String problem;
            try {
                RunRecord r = Json.mapper().readValue(l, RunRecord.class);
                problem = r == null ? "not a run record" : r.problem(true).orElse(null);
                if (problem == null) {
                    out.add(r);
                    continue;
                }
            } catch (IOException | RuntimeException e) {
                problem = i == all.length - 1 ? "torn by a crash mid-write" : firstLine(reason(e));
            }
            skipped.add(i + 1);
            if (warned.add((i + 1) + ":" + l.hashCode())) {
                Log.warnf("Run history %s line %d unusable (%s); skipped", file, i + 1, problem);
            }
        }
        last = out.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(out.get(out.size() - 1));
        return out;
    }

    /** Line numbers the last {@link #read()} skipped. */
    public synchronized List<Integer> skippedLines() {
        return List.copyOf(skippedLines);
    }

    /** The innermost message: "unknown outcome 'x'" rather than Jackson's wrapping of it. */
    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t instanceof IllegalArgumentException && t.getMessage() != null ? t.getMessage() : e.getMessage();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /** The newest usable record; reads the file only the first time (appends keep it). */
    public synchronized java.util.Optional<RunRecord> last() {
        if (last == null) {
            read();
        }
        return last;
    }

    private void trim() throws IOException {
        List<RunRecord> all = read();
        List<RunRecord> kept = all.subList(Math.max(0, all.size() - keep), all.size());
        StringBuilder text = new StringBuilder();
        for (RunRecord r : kept) {
            text.append(json(r)).append('\n');
        }
        DurableFile.replace(file, text.toString().getBytes(StandardCharsets.UTF_8));
        lines = kept.size();
    }

    /** Offset just past the last newline: what survives of the file when its last line is torn. */
    private static long completeLinesEnd(FileChannel ch, long size) throws IOException {
        long pos = size;
        ByteBuffer one = ByteBuffer.allocate(4096);
        while (pos > 0) {
            long from = Math.max(0, pos - one.capacity());
            one.clear().limit((int) (pos - from));
            ch.read(one, from);
            for (int i = one.position() - 1; i >= 0; i--) {
                if (one.get(i) == '\n') {
                    return from + i + 1;
                }
            }
            pos = from;
        }
        return 0;
    }
}
