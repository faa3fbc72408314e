package dev.binhost.agent.history;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunHistoryTest {
    @TempDir
    Path tmp;

    static RunRecord record(int n, String message) {
        return new RunRecord("run-" + n, "schedule", "schedule", "2026-11-24T03:30:00Z", "2026-11-24T03:40:00Z",
                List.of(new RunRecord.Check("master-up", true, "UP")),
                new RunRecord.Plan(10, 7, 3, 0, List.of(new RunRecord.Compiled("dev-libs/libdemo-1.2.3",
                        "use-differs", "binary has -static-libs")), List.of()),
                "apply", "success", 0, null, null, message, 7, 3, "/log/p", "/log/e");
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
