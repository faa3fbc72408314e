package dev.binhost.agent.history;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class RunHistoryTest {
    @TempDir
    Path tmp;

    public static RunRecord record(int n, String message) {
        return new RunRecord("run-" + n, "schedule", "schedule", "2026-11-24T03:30:00Z", "2026-11-24T03:40:00Z",
                List.of(new RunRecord.Check("master-up", true, "UP")),
                new RunRecord.Plan(10, 7, 3, 0, List.of(new RunRecord.Compiled("dev-libs/libdemo-1.2.3",
                        "use-differs", "binary has -static-libs")), List.of()),
                "apply", RunOutcome.SUCCESS, 0, null, null, message, 7, 3, "/log/p", "/log/e");
    }

    @Test
    void append_thenRead_roundTripsEveryField() throws Exception {
        RunHistory h = new RunHistory(tmp.resolve("h.jsonl"), 10);
        h.append(record(1, "one"));
        h.append(record(2, "two"));
        assertEquals(List.of(record(1, "one"), record(2, "two")), new RunHistory(tmp.resolve("h.jsonl"), 10).read());
    }

    @Test
    void read_tornLastLine_skipped_andNextAppendCutsItOff() throws Exception {
        Path f = tmp.resolve("h.jsonl");
        RunHistory h = new RunHistory(f, 10);
        h.append(record(1, "one"));
        Files.writeString(f, "{\"id\":\"run-2\",\"reas", StandardOpenOption.APPEND);
        assertEquals(List.of(record(1, "one")), h.read());
        h.append(record(3, "three"));
        assertEquals(List.of(record(1, "one"), record(3, "three")), h.read());
        assertEquals(2, Files.readAllLines(f).size());
    }

    /** A history with good lines around every kind of bad one a disk, an editor or an old version can leave. */
    public static void writeBadHistory(Path f) throws Exception {
        Files.createDirectories(f.toAbsolutePath().getParent());
        String good1 = RunHistory.json(record(1, "one"));
        String good2 = RunHistory.json(record(2, "two"));
        String good3 = RunHistory.json(record(3, "three"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String line : List.of(
                good1,                                                                          // 1
                good1.replace(",\"endedAt\":\"2026-11-24T03:40:00Z\"", ""),                     // 2 no endedAt
                good1.replace("\"endedAt\":\"2026-11-24T03:40:00Z\"", "\"endedAt\":\"yesterday\""), // 3
                good1.replace("\"outcome\":\"success\"", "\"outcome\":42"),                     // 4
                "{\"id\":\"run-x\",\"reas",                                                     // 5 truncated
                good2,                                                                          // 6
                "42",                                                                           // 7 not an object
                "null",                                                                         // 8
                good1.replace("\"exitCode\":0", "\"exitCode\":\"zero\""),                       // 9 wrong type
                good1.replace("\"startedAt\":\"2026-11-24T03:30:00Z\"", "\"startedAt\":null"),  // 10
                good1.replace("\"id\":\"run-1\"", "\"id\":[\"run-1\"]"),                       // 11
                good1.replaceAll("\"plan\":\\{.*?\\]\\},", "\"plan\":{\"packages\":1},"))) {      // 12 no lists
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
        out.write(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, '{', (byte) 0xc3, '\n'});    // 13 binary garbage
        out.write((good3 + "\n").getBytes(StandardCharsets.UTF_8));                              // 14
        Files.write(f, out.toByteArray());
    }

    @Test
    void read_badLinesAmongGood_returnsTheGoodOnes_andSkipsEachBadOneNamingItsLine() throws Exception {
        Path f = tmp.resolve("history.jsonl");
        writeBadHistory(f);
        RunHistory h = new RunHistory(f, 100);
        List<String> warnings = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(r.getMessage() + " " + Arrays.toString(r.getParameters()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(RunHistory.class.getName());
        logger.addHandler(capture);
        try {
            assertEquals(List.of(record(1, "one"), record(2, "two"), record(3, "three")), h.read());
            assertEquals(List.of(record(1, "one"), record(2, "two"), record(3, "three")), h.read());
        } finally {
            logger.removeHandler(capture);
        }
        assertEquals(List.of(2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13), h.skippedLines());
        assertEquals(11, warnings.size(), "one warning per bad line, not one per read: " + warnings);
        assertTrue(warnings.stream().allMatch(w -> w.contains(f.toString())), warnings.toString());
        assertTrue(warnings.get(0).contains("2") && warnings.get(0).contains("endedAt"), warnings.get(0));
        assertTrue(warnings.get(2).contains("outcome"), warnings.get(2));

        h.append(record(4, "four"));
        assertEquals(List.of("run-1", "run-2", "run-3", "run-4"), h.read().stream().map(RunRecord::id).toList());
    }

    @Test
    void outcomes_writtenByTheirTag_andAnUnknownOneSkipsOnlyItsLineNamingIt() throws Exception {
        for (RunOutcome o : RunOutcome.values()) {
            RunRecord r = record(1, "m").withEnd("2026-11-24T03:40:00Z", o, "m");
            assertTrue(RunHistory.json(r).contains("\"outcome\":\"" + o.tag() + "\""), RunHistory.json(r));
            assertEquals(Optional.of(o), RunOutcome.of(o.tag()));
        }
        assertEquals(List.of("success", "partial", "blocked", "failed", "timed-out", "skipped", "refused", "planned", "nothing-to-do",
                "plan-failed", "interrupted", "error"), Arrays.stream(RunOutcome.values()).map(RunOutcome::tag)
                .toList(), "the names history.jsonl, metrics and notify use (partial and blocked added with issue 12)");
        Path f = tmp.resolve("h.jsonl");
        String good = RunHistory.json(record(1, "one"));
        Files.writeString(f, good + "\n" + good.replace("\"outcome\":\"success\"", "\"outcome\":\"exploded\"")
                .replace("run-1", "run-2") + "\n" + RunHistory.json(record(3, "three")) + "\n");
        List<String> warnings = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(r.getMessage() + " " + Arrays.toString(r.getParameters()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(RunHistory.class.getName());
        logger.addHandler(capture);
        RunHistory h = new RunHistory(f, 100);
        try {
            assertEquals(List.of("run-1", "run-3"), h.read().stream().map(RunRecord::id).toList());
            h.read();
        } finally {
            logger.removeHandler(capture);
        }
        assertEquals(List.of(2), h.skippedLines());
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("unknown outcome 'exploded'"), warnings.get(0));
    }

    @Test
    void append_pastRetention_keepsTheNewestOnly() throws Exception {
        Path f = tmp.resolve("h.jsonl");
        RunHistory h = new RunHistory(f, 3);
        for (int i = 0; i < 7; i++) {
            h.append(record(i, "m"));
        }
        assertEquals(List.of("run-4", "run-5", "run-6"), h.read().stream().map(RunRecord::id).toList());
        assertTrue(Files.notExists(tmp.resolve("h.jsonl.tmp")));
    }

    @Test
    void append_writerSigkilledMidAppend_earlierEntriesIntact() throws Exception {
        Path f = tmp.resolve("h.jsonl");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), HistoryWriterMain.class.getName(), f.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.out").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((!Files.exists(f) || Files.size(f) < 2_000_000) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        } finally {
            child.destroyForcibly(); // SIGKILL
            child.waitFor();
        }
        assertEquals(137, child.exitValue(), "killed by SIGKILL");
        List<RunRecord> read = new RunHistory(f, Integer.MAX_VALUE).read();
        assertTrue(read.size() >= 50, "entries written before the kill: " + read.size());
        assertEquals(IntStream.range(0, read.size()).mapToObj(i -> "run-" + i).toList(),
                read.stream().map(RunRecord::id).toList(), "every complete entry readable and in order");
        String text = Files.readString(f, StandardCharsets.UTF_8);
        int complete = (int) text.chars().filter(c -> c == '\n').count();
        assertTrue(read.size() == complete, "only a torn tail, if any, is lost");
        RunHistory after = new RunHistory(f, Integer.MAX_VALUE);
        after.append(record(999, "after restart"));
        assertEquals(read.size() + 1, after.read().size());
    }
}
