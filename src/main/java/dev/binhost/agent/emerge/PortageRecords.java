package dev.binhost.agent.emerge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.binhost.agent.portage.EmergeLog;
import dev.binhost.agent.portage.InstalledDb;
import dev.binhost.agent.portage.MtimeDb;
import dev.binhost.agent.state.Json;
import io.quarkus.logging.Log;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Portage's records under one root, read around a run: the mark before emerge starts, and after it ends the
 * {@link MergeReport} built from emerge.log, the installed database and the resume list, plus what emerge left for
 * the admin (preserved libraries, config files waiting, unread news). A record that cannot be read is named in the
 * log and in the report's {@code source}; the run is still reported from what could be read.
 */
public final class PortageRecords {
    private static final Pattern CONFIG_FILE = Pattern.compile("\\* IMPORTANT: config file '(.+)' needs updating\\.");
    private static final Pattern CONFIG_FILES = Pattern.compile("\\* IMPORTANT: (\\d+) config files in '(.+)' need updating\\.");

    private final Path vdb;
    private final Path emergeLog;
    private final Path mtimedb;
    private final Path preservedLibs;
    private final Path news;
    private final Path buildLogs;

    public PortageRecords(Path eroot) {
        this.vdb = eroot.resolve("var/db/pkg");
        this.emergeLog = eroot.resolve("var/log/emerge.log");
        this.mtimedb = eroot.resolve("var/cache/edb/mtimedb");
        this.preservedLibs = eroot.resolve("var/lib/portage/preserved_libs_registry");
        this.news = eroot.resolve("var/lib/gentoo/news");
        this.buildLogs = eroot.resolve("var/tmp/portage");
    }

    /** Where the records stand now; taken just before emerge starts. */
    public UpdateRunner.RecordsMark mark() {
        long offset;
        Long counter;
        try {
            offset = EmergeLog.end(emergeLog);
        } catch (IOException e) {
            Log.warnf("Cannot read %s: %s", emergeLog, e.getMessage());
            offset = 0;
        }
        try {
            counter = InstalledDb.read(vdb).highestCounter();
        } catch (IOException | RuntimeException e) {
            Log.warnf("Cannot read the installed database %s: %s", vdb, e.getMessage());
            counter = null;
        }
        return new UpdateRunner.RecordsMark(offset, counter);
    }

    /** The packages this run's emerge.log session has started so far, as a run's expected list. */
    public List<MergeReport.Expected> startedSince(UpdateRunner.RecordsMark mark) {
        return session(mark).map(s -> s.packages().stream()
                .map(p -> new MergeReport.Expected(p.cpv(), p.source() == EmergeLog.Source.BINARY)).toList())
                .orElse(List.of());
    }

    /** The exit status emerge logged for the run that started at {@code mark}; empty when it logged none. */
    public java.util.OptionalInt exitStatusSince(UpdateRunner.RecordsMark mark) {
        return session(mark).map(EmergeLog.Session::exitStatus).orElse(java.util.OptionalInt.empty());
    }

    private Optional<EmergeLog.Session> session(UpdateRunner.RecordsMark mark) {
        try {
            List<EmergeLog.Session> sessions = EmergeLog.read(emergeLog, mark.logOffset()).sessions();
            return sessions.isEmpty() ? Optional.empty() : Optional.of(sessions.get(0));
        } catch (IOException e) {
            Log.warnf("Cannot read %s: %s", emergeLog, e.getMessage());
            return Optional.empty();
        }
    }

    /** What emerge's resume list holds now; empty when there is none or it cannot be read (logged). */
    public List<MtimeDb.Pending> resumeList() {
        try {
            return MtimeDb.resumeList(mtimedb);
        } catch (IOException e) {
            Log.warnf("Cannot read emerge's resume list: %s", e.getMessage());
            return List.of();
        }
    }

    /** The report of a run that started at {@code mark}; {@code output} is the tail of its terminal output. */
    public MergeReport report(List<MergeReport.Expected> expected, EmergePlan plan, UpdateRunner.RecordsMark mark,
            EmergeProgress.Snapshot progress, int exitCode, boolean timedOut) {
        Optional<EmergeLog.Session> session;
        List<String> missing = new ArrayList<>();
        try {
            EmergeLog.Read read = EmergeLog.read(emergeLog, mark.logOffset());
            if (read.rotated()) {
                Log.warnf("%s is shorter than when the run started (rotated?); read from its start", emergeLog);
            }
            session = read.sessions().isEmpty() ? Optional.empty() : Optional.of(read.sessions().get(0));
        } catch (IOException e) {
            missing.add(emergeLog + ": " + e.getMessage());
            session = Optional.empty();
        }
        InstalledDb after = null;
        if (mark.counter() == null) {
            missing.add(vdb + ": unreadable when the run started");
        } else {
            try {
                after = InstalledDb.read(vdb);
            } catch (IOException | RuntimeException e) {
                missing.add(vdb + ": " + e.getMessage());
            }
        }
        List<MtimeDb.Pending> left;
        try {
            left = MtimeDb.resumeList(mtimedb);
        } catch (IOException e) {
            missing.add(e.getMessage());
            left = List.of();
        }
        missing.forEach(m -> Log.warnf("Cannot read a Portage record: %s", m));
        progress = withPhaseFromBuildLog(progress, session);
        return MergeReport.of(expected, plan, session, after, after == null ? -1 : mark.counter(), left, progress, exitCode,
                timedOut);
    }

    /**
     * With {@code --jobs} a build's output goes only to its build log, so the terminal never says in which phase
     * it failed: Portage keeps the failed build's log ({@code PORTAGE_TMPDIR/portage/<cpv>/temp/build.log}), and
     * its {@code * ERROR: … failed (compile phase):} line says it.
     */
    private EmergeProgress.Snapshot withPhaseFromBuildLog(EmergeProgress.Snapshot p,
            Optional<EmergeLog.Session> session) {
        if (p.failedPhase().isPresent() || session.isEmpty() || session.get().unfinished().isEmpty()) {
            return p;
        }
        String cpv = session.get().unfinished().get(0).cpv();
        Path log = buildLogs.resolve(cpv).resolve("temp/build.log");
        try {
            if (!Files.isRegularFile(log) || Files.size(log) > (64 << 20)) {
                return p;
            }
            EmergeProgress.Snapshot fromLog = EmergeProgress.of(Files.readString(log,
                    java.nio.charset.StandardCharsets.ISO_8859_1));
            if (fromLog.failedPhase().isEmpty()) {
                return p;
            }
            return new EmergeProgress.Snapshot(p.index(), p.total(), p.current(), p.currentIsBinary(),
                    p.completedBinary(), p.completedCompiled(), Optional.of(cpv), fromLog.failedPhase());
        } catch (IOException e) {
            return p;
        }
    }

    /** Lines of a failed build kept for the report: the build's last output before emerge's error, and the error. */
    static final int EXCERPT_LINES = 12;

    /**
     * The error excerpt of the first failed package: the lines before emerge's {@code * ERROR: <cpv>… failed}
     * (the compiler's or the build system's message) and that line with the next, from the run's output, or
     * under {@code --jobs} from the build log Portage kept; empty when neither has it.
     */
    public List<String> errorExcerpt(MergeReport report, String output) {
        if (report.failed().isEmpty()) {
            return List.of();
        }
        String cpv = report.failed().get(0);
        List<String> found = excerpt(cpv, output);
        if (found.isEmpty()) {
            Path log = buildLogs.resolve(cpv).resolve("temp/build.log");
            try {
                if (Files.isRegularFile(log) && Files.size(log) <= (64 << 20)) {
                    found = excerpt(cpv, Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1));
                }
            } catch (IOException e) {
                Log.debugf("Cannot read %s: %s", log, e.getMessage());
            }
        }
        return found;
    }

    private static List<String> excerpt(String cpv, String text) {
        List<String> lines = text.lines().map(l -> Ansi.strip(l).stripTrailing()).toList();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.startsWith("* ERROR: " + cpv) && l.contains(" failed (")) {
                int from = Math.max(0, i - EXCERPT_LINES);
                List<String> out = new ArrayList<>(lines.subList(from, Math.min(lines.size(), i + 2)));
                out.removeIf(String::isBlank);
                return List.copyOf(out);
            }
        }
        return List.of();
    }

    /**
     * What emerge left for the admin after a run, as it printed it ({@code output}, the run's output tail) or
     * records it: config files waiting for a merge (printed: the ._cfg files are issue 14's), preserved libraries
     * ({@code preserved_libs_registry}), unread news ({@code news-<repo>.unread}).
     */
    public List<String> notices(String output) {
        List<String> notices = new ArrayList<>();
        int files = 0;
        List<String> where = new ArrayList<>();
        for (String raw : output.split("\r?\n")) {
            String line = Ansi.strip(raw).strip();
            Matcher one = CONFIG_FILE.matcher(line);
            Matcher many = CONFIG_FILES.matcher(line);
            if (one.find()) {
                files++;
                where.add(one.group(1));
            } else if (many.find()) {
                files += Integer.parseInt(many.group(1));
                where.add(many.group(2));
            }
        }
        if (files > 0) {
            notices.add(files + (files == 1 ? " config file needs" : " config files need") + " updating: "
                    + String.join(", ", where));
        }
        preservedPackages().ifPresent(n -> notices.add("preserved libraries kept for " + n + " package"
                + (n == 1 ? "" : "s") + "; run emerge @preserved-rebuild"));
        unreadNews().ifPresent(n -> notices.add(n + " unread news item" + (n == 1 ? "" : "s")));
        return notices;
    }

    private Optional<Integer> preservedPackages() {
        try {
            if (!Files.exists(preservedLibs) || Files.size(preservedLibs) > (16 << 20)) {
                return Optional.empty();
            }
            JsonNode registry = Json.mapper().readTree(preservedLibs.toFile());
            return registry != null && registry.isObject() && registry.size() > 0
                    ? Optional.of(registry.size()) : Optional.empty();
        } catch (IOException e) {
            Log.warnf("Cannot read %s: %s", preservedLibs, e.getMessage());
            return Optional.empty();
        }
    }

    private Optional<Integer> unreadNews() {
        int count = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(news, "news-*.unread")) {
            for (Path f : files) {
                if (Files.size(f) < (1 << 20)) {
                    count += (int) Files.readAllLines(f).stream().filter(l -> !l.isBlank()).count();
                }
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            Log.warnf("Cannot read the news state in %s: %s", news, e.getMessage());
            return Optional.empty();
        }
        return count == 0 ? Optional.empty() : Optional.of(count);
    }
}
