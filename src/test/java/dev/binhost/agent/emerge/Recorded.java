package dev.binhost.agent.emerge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One recorded real run under {@code fixtures/records/NN-name/} (see its README): the output, the emerge.log lines
 * it appended, /var/db/pkg before and after, mtimedb. Lays those records out under a test's root as they were
 * before and after the run.
 */
public record Recorded(Path dir) {
    public static final Path DIR = Paths.get("src/test/resources/fixtures/records").toAbsolutePath();

    public static Recorded of(String prefix) {
        try (Stream<Path> s = Files.list(DIR)) {
            return new Recorded(s.filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no recorded run " + prefix)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path output() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("output\\.rc\\d+\\.txt")).findFirst()
                    .orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String outputText() {
        return read(output());
    }

    public int exitCode() {
        return Integer.parseInt(output().getFileName().toString().replaceAll("\\D", ""));
    }

    public Path emergeLog() {
        return dir.resolve("emerge.log");
    }

    public Path vdbBefore() {
        return dir.resolve("vdb-before");
    }

    public Path vdbAfter() {
        return dir.resolve("vdb-after");
    }

    public Optional<Path> file(String name) {
        Path p = dir.resolve(name);
        return Files.exists(p) ? Optional.of(p) : Optional.empty();
    }

    /** The recorded vdb-after entries (cat/pf) that have the given metadata file. */
    public List<String> afterEntriesWith(String file, boolean present) {
        try (Stream<Path> s = Files.walk(vdbAfter(), 2)) {
            return s.filter(p -> vdbAfter().relativize(p).getNameCount() == 2 && Files.isDirectory(p))
                    .filter(p -> Files.exists(p.resolve(file)) == present)
                    .map(p -> vdbAfter().relativize(p).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Replays this run's records under {@code eroot} (before, mark, after) and reconciles them with {@code plan},
     * as the runner does after a real run.
     */
    public MergeReport report(Path eroot, EmergePlan plan) {
        before(eroot);
        PortageRecords records = new PortageRecords(eroot);
        UpdateRunner.RecordsMark mark = records.mark();
        after(eroot);
        return records.report(MergeReport.Expected.fromPlan(plan.packages()), plan, mark,
                EmergeProgress.of(outputText()), exitCode(), false);
    }

    /** Puts the records as they were before the run under {@code eroot}. */
    public void before(Path eroot) {
        copyTree(vdbBefore(), eroot.resolve("var/db/pkg"));
        file("mtimedb-before").ifPresent(m -> copy(m, eroot.resolve("var/cache/edb/mtimedb")));
        try {
            Files.createDirectories(eroot.resolve("var/log"));
            if (!Files.exists(eroot.resolve("var/log/emerge.log"))) {
                // an earlier real session, so the run's lines start at an offset as on a real box
                Files.copy(Fixtures.SESSIONS.resolve("slave-nothing-to-do.emerge.log"),
                        eroot.resolve("var/log/emerge.log"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Puts the records as the run left them under {@code eroot}: vdb-after, its emerge.log lines, mtimedb. */
    public void after(Path eroot) {
        try {
            Path vdb = eroot.resolve("var/db/pkg");
            if (Files.exists(vdb)) {
                try (Stream<Path> s = Files.walk(vdb)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
            copyTree(vdbAfter(), vdb);
            Files.write(eroot.resolve("var/log/emerge.log"), Files.readAllBytes(emergeLog()), StandardOpenOption.APPEND);
            file("mtimedb").ifPresent(m -> copy(m, eroot.resolve("var/cache/edb/mtimedb")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copyTree(Path from, Path to) {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                if (p.getFileName().toString().equals(".empty")) {
                    continue;
                }
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copy(Path from, Path to) {
        try {
            Files.createDirectories(to.getParent());
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
