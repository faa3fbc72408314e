package dev.binhost.agent.emerge;

import com.cronutils.model.time.ExecutionTime;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.state.DurableFile;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The download-only step of an http slave ({@code binhost.packages.prefetch-cron}): {@code emerge --fetchonly}
 * with the update run's own arguments, so the install that follows downloads nothing but the binhost's index.
 * Portage skips the download of a binary whose cached file has the size and mtime the index gives (its
 * {@code download_required}); it does not use cached files at all while the binhost is down (record 70), so a
 * prefetch shortens the install and its time on the network, it does not replace the binhost.
 *
 * <p>It runs on the update loop's thread, so never beside an update run, and only when a run could start now
 * (master and binhost UP, no other emerge, load) and the machine is on mains power; the admin's holds (unread news,
 * config files) do not stop a download. A missed prefetch is not caught up: the next install fetches what it needs.
 *
 * <p>emerge writes nothing to emerge.log or /var/db/pkg for {@code --fetchonly} (record 69), so what was fetched is
 * read from the download directory itself: binary package files new or changed (size, mtime) since the start.
 * Partial downloads ({@code .partial}) and the files Portage renames after a failed digest check are not counted.
 */
public final class Prefetch {
    /** The follow-up holds: the admin's to clear before an install, no reason not to download. */
    static final Set<String> NOT_FOR_DOWNLOADS = Set.of("no-unread-news", "config-files-merged");
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    public enum Outcome {
        SUCCESS, FAILED, TIMED_OUT, SKIPPED, ERROR;

        /** As status, the metric tag and the state file spell it (the run history's style). */
        @com.fasterxml.jackson.annotation.JsonValue
        public String tag() {
            return name().toLowerCase().replace('_', '-');
        }
    }

    /** One prefetch, as status shows it and the state file keeps it (times ISO-8601, UTC). */
    public record Result(String id, String startedAt, String endedAt, Outcome outcome, String message,
            int packages, long bytes, Integer exitCode, String log) {
    }

    /**
     * What the step needs from the update runner: the run's arguments and what would block a run now. (No run can
     * be in progress meanwhile: runs and the prefetch share the update loop's thread.)
     */
    public interface Runs {
        List<String> prefetchArgs();

        List<RunRecord.Check> blockingNow();
    }

    private final String cronText;
    private final ExecutionTime cron;
    private final Duration deadline;
    private final Supplier<Path> downloads;
    private final Runs runs;
    private final Supplier<HostChecks.Power> power;
    private final ProcessRunner processes;
    private final List<String> emergeCommand;
    private final Path logDir;
    private final Path stateFile;
    private final Clock clock;
    private final MeterRegistry registry;
    private volatile Result last;
    private volatile Instant runningSince;

    public Prefetch(String cron, Duration deadline, Supplier<Path> downloads, Runs runs,
            Supplier<HostChecks.Power> power, ProcessRunner processes, List<String> emergeCommand, Path logDir,
            Path stateDir, Clock clock, MeterRegistry registry) {
        this.cronText = cron;
        this.cron = UpdateSchedule.quartz(cron);
        this.deadline = deadline;
        this.downloads = downloads;
        this.runs = runs;
        this.power = power;
        this.processes = processes;
        this.emergeCommand = List.copyOf(emergeCommand);
        this.logDir = logDir;
        this.stateFile = stateDir.resolve("prefetch-last.json");
        this.clock = clock;
        this.registry = registry;
        packages();
        bytes();
        for (Outcome o : Outcome.values()) {
            runsCounter(o);
        }
        this.last = read();
    }

    public Duration deadline() {
        return deadline;
    }

    /** The cron time after {@code t}; empty for a cron expression that never fires again. */
    public Optional<Instant> nextAfter(Instant t) {
        return cron.nextExecution(ZonedDateTime.ofInstant(t, clock.getZone())).map(ZonedDateTime::toInstant);
    }

    public Optional<Result> last() {
        return Optional.ofNullable(last);
    }

    /** Runs the step now (the caller, the update loop, runs nothing else meanwhile) and records what it did. */
    public Result run() {
        Instant started = clock.instant();
        String id = UpdateRunner.ID.format(started) + "-prefetch";
        Result r;
        Optional<String> why = whyNot();
        if (why.isPresent()) {
            r = ended(id, started, Outcome.SKIPPED, "not run: " + why.get());
        } else {
            runningSince = started;
            try {
                r = fetch(id, started);
            } catch (IOException | RuntimeException e) {
                r = ended(id, started, Outcome.ERROR, "the prefetch could not run: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                r = ended(id, started, Outcome.ERROR, "interrupted (the agent is stopping)");
            } finally {
                runningSince = null;
            }
        }
        record(r);
        return r;
    }

    private Result ended(String id, Instant started, Outcome outcome, String message) {
        return new Result(id, started.toString(), clock.instant().toString(), outcome, message, 0, 0, null, null);
    }

    /** Why a prefetch must not start now, or empty. */
    Optional<String> whyNot() {
        if (power.get() != HostChecks.Power.MAINS) {
            return Optional.of("on battery (a prefetch runs only on mains power)");
        }
        List<RunRecord.Check> blocking = runs.blockingNow().stream()
                .filter(c -> !NOT_FOR_DOWNLOADS.contains(c.name())).toList();
        if (!blocking.isEmpty()) {
            return Optional.of("blocked by " + String.join(", ", blocking.stream()
                    .map(c -> c.name() + " (" + c.detail() + ")").toList()));
        }
        return Optional.empty();
    }

    private Result fetch(String id, Instant started) throws IOException, InterruptedException {
        Path dir = downloads.get();
        Map<Path, FileKey> before = scan(dir);
        Path log = UpdateRunner.newLog(logDir, id + "-emerge.log");
        List<String> argv = new java.util.ArrayList<>(emergeCommand);
        argv.addAll(runs.prefetchArgs());
        Log.infof("Prefetch %s: %s", id, String.join(" ", argv));
        CommandResult result = processes.run(Command.of("emerge-fetchonly", argv).log(log).deadline(deadline).build());
        Map<Path, FileKey> after = scan(dir);
        int count = 0;
        long size = 0;
        for (Map.Entry<Path, FileKey> e : after.entrySet()) {
            if (!e.getValue().equals(before.get(e.getKey()))) {
                count++;
                size += e.getValue().size();
            }
        }
        // binhost gone since the check: emerge says so, exits 0 and fetches only distfiles for the builds (record 76)
        List<String> unreachable = EmergePlan.unreachableBinhosts(result.outputTail());
        Outcome outcome = result.timedOut() ? Outcome.TIMED_OUT
                : result.succeeded() && unreachable.isEmpty() ? Outcome.SUCCESS : Outcome.FAILED;
        String fetched = count + (count == 1 ? " binary package" : " binary packages") + " fetched ("
                + size + " bytes) into " + dir;
        String message = switch (outcome) {
            case SUCCESS -> fetched;
            case TIMED_OUT -> "passed its deadline of " + dev.binhost.agent.config.Durations.human(deadline)
                    + " and was ended; " + fetched + " before that; the install fetches the rest";
            default -> (unreachable.isEmpty() ? "emerge --fetchonly exited " + result.exitCode() + ": "
                    + why(result) : "the binhost did not answer (" + String.join("; ", unreachable) + ")")
                    + "; " + fetched;
        };
        return new Result(id, started.toString(), clock.instant().toString(), outcome, message, count, size,
                result.exitCode(), log.toString());
    }

    /** What failed: the package and check emerge named (a bad binary, record 77), else its last line. */
    private static String why(CommandResult result) {
        EmergeProgress.Snapshot s = EmergeProgress.of(result.outputTail());
        if (s.failedPackage().isPresent()) {
            return s.failedPackage().get() + " failed" + s.failedPhase().map(ph -> " in the " + ph).orElse("")
                    + s.failedDetail().map(d -> " (" + d + ")").orElse("");
        }
        return result.lastLine();
    }

    private record FileKey(long size, long mtimeMillis) {
    }

    /** Binary package files under {@code dir}: size and mtime; none when it does not exist yet. */
    static Map<Path, FileKey> scan(Path dir) throws IOException {
        Map<Path, FileKey> files = new HashMap<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                String name = p.getFileName().toString();
                if (!(name.endsWith(".gpkg.tar") || name.endsWith(".xpak") || name.endsWith(".tbz2"))) {
                    continue;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    if (a.isRegularFile()) {
                        files.put(p, new FileKey(a.size(), a.lastModifiedTime().toMillis()));
                    }
                } catch (NoSuchFileException gone) {
                    // renamed or removed by emerge meanwhile
                }
            }
        }
        return files;
    }

    private void record(Result r) {
        last = r;
        runsCounter(r.outcome()).increment();
        packages().increment(r.packages());
        bytes().increment(r.bytes());
        if (r.outcome() == Outcome.SUCCESS) {
            Log.infof("Prefetch %s: %s", r.id(), r.message());
        } else {
            Log.warnf("Prefetch %s %s: %s", r.id(), r.outcome().tag(), r.message());
        }
        try {
            DurableFile.replace(stateFile, JSON.writeValueAsBytes(r));
        } catch (IOException e) {
            Log.warnf("Cannot write %s: %s", stateFile, e.getMessage());
        }
    }

    private Result read() {
        try {
            return JSON.readValue(Files.readAllBytes(stateFile), Result.class);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            Log.warnf("Ignoring %s: %s", stateFile, e.getMessage());
            return null;
        }
    }

    private Counter packages() {
        return Counter.builder("binhost.prefetch.packages").description("Binary packages the prefetch downloaded")
                .register(registry);
    }

    private Counter bytes() {
        return Counter.builder("binhost.prefetch.bytes").baseUnit("bytes")
                .description("Bytes of binary packages the prefetch downloaded").register(registry);
    }

    private Counter runsCounter(Outcome o) {
        return Counter.builder("binhost.prefetch.runs").tag("outcome", o.tag())
                .description("Prefetch steps, by outcome").register(registry);
    }

    /** The {@code prefetch} part of the update status. */
    public Map<String, Object> status(Instant nextDue) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cron", cronText);
        m.put("next", nextDue == null ? null : nextDue.toString());
        Instant since = runningSince;
        m.put("running", since != null);
        Result r = last;
        if (r != null) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("id", r.id());
            l.put("outcome", r.outcome().tag());
            l.put("message", r.message());
            l.put("startedAt", r.startedAt());
            l.put("endedAt", r.endedAt());
            l.put("packages", r.packages());
            l.put("bytes", r.bytes());
            l.put("log", r.log());
            m.put("last", l);
        }
        return m;
    }
}
