package dev.binhost.agent.emerge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** The real emerge outputs copied from the shared fixtures, and their index. */
public final class Fixtures {
    public static final Path DIR = Paths.get("src/test/resources/fixtures/emerge").toAbsolutePath();
    /** emerge.log sessions cut from the harness hosts' logs, one per scenario whose real run wrote one. */
    public static final Path SESSIONS = Paths.get("src/test/resources/fixtures/records/sessions").toAbsolutePath();

    /** One row of index.tsv. */
    public record Entry(String file, String scenario, String host, int exitCode, String args, String description) {
        public boolean pretend() {
            return args.contains("--pretend");
        }

        public String variant() {
            return file.split("\\.")[1];
        }

        public String text() {
            return read(file);
        }
    }

    private Fixtures() {
    }

    public static List<Entry> index() {
        List<Entry> out = new ArrayList<>();
        List<String> lines = lines("index.tsv");
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            out.add(new Entry(f[0], f[1], f[2], Integer.parseInt(f[3]), f[4], f.length > 5 ? f[5] : ""));
        }
        return out;
    }

    public static Entry entry(String prefix) {
        return index().stream().filter(e -> e.file().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no fixture " + prefix));
    }

    /** The emerge.log lines the scenario's real run wrote, when they were recorded. */
    public static java.util.Optional<Path> sessionLog(Entry e) {
        Path p = SESSIONS.resolve(e.scenario() + ".emerge.log");
        return Files.exists(p) ? java.util.Optional.of(p) : java.util.Optional.empty();
    }

    public static String read(String file) {
        try {
            return Files.readString(DIR.resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(DIR.resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
