package dev.binhost.agent.emerge;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.binhost.agent.history.RunHistory;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.metrics.OwnedMeters;
import dev.binhost.agent.posix.Posix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.Verdict;
import dev.binhost.agent.state.DurableFile;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * One update run, start to end: the agent's lock, the preconditions, the config pull, the pretend plan, the
 * policy, the real emerge, the outcome; persisted in the history, counted in metrics, announced to the notify
 * command. A plain class (no CDI) so tests drive it against the stand-in emerge.
 *
 * <p>While a run is past its preconditions a marker file ({@code current-run.json}) in the state dir holds its
 * record; it is removed when the run's history line is written. A marker found on start-up is a run the agent
 * or the machine did not finish: {@link #recoverInterrupted()} records it as interrupted.
 */
public class UpdateRunner {
    /** Why a run started; goes into the history. */
    public enum Reason { SCHEDULE, TRIGGER, CATCH_UP, RESUME }

    /** What a running run is doing, for status. */
    public record Current(String id, Reason reason, String phase, Instant startedAt, EmergeProgress progress) {
    }

    /** The marker of a run in progress. */
    public record Marker(RunRecord record, String phase, Long emergePid) {
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final UpdateConfig config;
    private final Path stateDir;
    private final Path logDir;
    private final Path procDir;
    private final ProcessRunner runner;
    private final Posix posix;
    private final Supplier<List<RunPrecondition>> preconditions;
    private final Supplier<Optional<Supplier<Verdict>>> refresher;
    private final RunHistory history;
    private final Clock clock;
    private final MeterRegistry registry;
    private final OwnedMeters gauges;
    private final AtomicReference<Current> current = new AtomicReference<>();
    private final AtomicLong lastSuccessEpoch = new AtomicLong();
    private final AtomicLong pending = new AtomicLong();

    public UpdateRunner(UpdateConfig config, Path stateDir, Path logDir, Path procDir, ProcessRunner runner,
            Posix posix,
            Supplier<List<RunPrecondition>> preconditions, Supplier<Optional<Supplier<Verdict>>> refresher,
            Clock clock, MeterRegistry registry) {
        this.config = config;
        this.stateDir = stateDir;
        this.logDir = logDir;
        this.procDir = procDir;
        this.runner = runner;
        this.posix = posix;
        this.preconditions = preconditions;
        this.refresher = refresher;
        this.history = new RunHistory(stateDir.resolve("history.jsonl"), config.historyKeep());
        this.clock = clock;
        this.registry = registry;
        this.gauges = new OwnedMeters(registry);
        // the history skips unusable lines, so every success read back has a valid endedAt
        history.read().stream().filter(r -> "success".equals(r.outcome())).reduce((a, b) -> b)
                .ifPresent(r -> lastSuccessEpoch.set(Instant.parse(r.endedAt()).getEpochSecond()));
        gauges.add(Gauge.builder("binhost.update.last.success", lastSuccessEpoch, AtomicLong::get)
                .baseUnit("seconds").description("Unix time of the last successful update run").register(registry));
        gauges.add(Gauge.builder("binhost.update.pending", pending, AtomicLong::get)
                .description("Packages the last plan would install").register(registry));
        for (String kind : List.of("binary", "compiled")) {
            registry.counter("binhost.update.packages", "kind", kind);
        }
    }

    public RunHistory history() {
        return history;
    }

    public Optional<Current> current() {
        return Optional.ofNullable(current.get());
    }

    public long pending() {
        return pending.get();
    }

    Path markerFile() {
        return stateDir.resolve("current-run.json");
    }

    Path lastRunFile() {
        return stateDir.resolve("last-run");
    }

    /** When a run last got past its preconditions, persisted for catch-up after a restart. */
    public Optional<Instant> lastRun() {
        try {
            return Optional.of(Instant.parse(Files.readString(lastRunFile()).strip()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Records a run the agent did not finish (marker left behind), with how far its emerge got according to its
     * log. Returns that record, so the caller can resume it.
     */
    public Optional<RunRecord> recoverInterrupted() throws IOException {
        if (!Files.exists(markerFile())) {
            return Optional.empty();
        }
        Marker marker;
        String problem;
        try {
            marker = JSON.readValue(markerFile().toFile(), Marker.class);
            problem = marker == null || marker.record() == null ? "no run record"
                    : marker.record().problem(false).orElse(null);
            Optional<Path> log = logOf(marker == null ? null : marker.record());
            if (problem == null && marker.record().log() != null && log.isEmpty()) {
                problem = "log path '" + marker.record().log() + "' is not a path";
            }
        } catch (IOException | RuntimeException e) {
            marker = null;
            problem = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
        }
        if (problem != null) {
            // without a sound record there is nothing to record or resume; keeping it would trip every start
            Log.warnf("Unusable run marker %s (%s); removed", markerFile(), problem);
            Files.deleteIfExists(markerFile());
            return Optional.empty();
        }
        RunRecord r = marker.record();
        String progress = "";
        Optional<Path> log = logOf(r);
        if (log.isPresent() && Files.exists(log.get())) {
            EmergeProgress.Snapshot s = EmergeProgress.of(new String(Files.readAllBytes(log.get()), StandardCharsets.UTF_8));
            progress = "; its log shows " + s.completed() + " of " + s.total() + " packages merged"
                    + s.current().map(c -> ", " + c + " in progress").orElse("");
        }
        boolean stillRunning = marker.emergePid() != null && posix.kill(marker.emergePid().intValue(), 0)
                && HostChecks.emergePids(procDir).contains(marker.emergePid());
        RunRecord ended = r.withEnd(clock.instant().toString(), "interrupted",
                "the agent stopped during the " + marker.phase() + " phase" + progress
                        + (stillRunning ? "; emerge (pid " + marker.emergePid() + ") is still running" : ""));
        history.append(ended);
        registry.counter("binhost.update.runs", "outcome", "interrupted").increment();
        Files.deleteIfExists(markerFile());
        Log.warnf("Update run %s was interrupted: %s", r.id(), ended.message());
        return Optional.of(ended);
    }

    private static Optional<Path> logOf(RunRecord r) {
        if (r == null || r.log() == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Path.of(r.log()));
        } catch (java.nio.file.InvalidPathException e) {
            return Optional.empty();
        }
    }

    /** Runs one update to its end on the calling thread and returns what the history recorded. */
    public RunRecord run(Reason reason, String requestedBy) {
        Instant started = clock.instant();
        String id = ID.format(started) + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        Run run = new Run(id, reason, requestedBy, started);
        current.set(new Current(id, reason, "preconditions", started, run.progress));
        try (Posix.FileLock lock = posix.tryLock(stateDir.resolve("update.lock"))) {
            if (!lock.acquired()) {
                run.check("agent-lock", Verdict.no("another binhost-agent holds " + stateDir.resolve("update.lock")));
                return run.end("skipped", "blocked by agent-lock");
            }
            run.check("agent-lock", Verdict.ok("held"));
            if (!checkPreconditions(run)) {
                return run.end("skipped", "blocked by " + run.blocking());
            }
            Files.writeString(lastRunFile(), started.toString() + "\n");
            if (reason == Reason.RESUME) {
                return apply(run, List.of("--resume"));
            }
            List<String> args = new ArrayList<>(config.emergeArgs());
            config.exclude().ifPresent(atoms -> atoms.forEach(a -> {
                args.add("--exclude");
                args.add(a);
            }));
            if (run.binariesOnlyByPower || config.binariesOnly() == UpdateConfig.BinariesOnly.USEPKGONLY) {
                args.add("--usepkgonly");
            }
            return planAndApply(run, args);
        } catch (IOException e) {
            Log.errorf(e, "Update run %s failed", id);
            return run.end("error", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return run.end("interrupted", "the agent is shutting down");
        } finally {
            current.set(null);
        }
    }

    private boolean checkPreconditions(Run run) {
        for (RunPrecondition p : preconditions.get()) {
            Verdict v;
            try {
                v = p.check();
            } catch (RuntimeException e) {
                v = Verdict.no("check failed: " + e);
            }
            run.check(p.name(), v);
        }
        run.check("no-other-emerge", HostChecks.noOtherEmerge(procDir));
        HostChecks.Power power = HostChecks.power(config.powerSupplyDir());
        if (power == HostChecks.Power.BATTERY && config.onBattery() == UpdateConfig.OnBattery.SKIP) {
            run.check("power", Verdict.no("on battery (binhost.update.on-battery=skip)"));
        } else {
            run.binariesOnlyByPower = power == HostChecks.Power.BATTERY
                    && config.onBattery() == UpdateConfig.OnBattery.BINARIES_ONLY;
            run.check("power", Verdict.ok(power == HostChecks.Power.MAINS ? "on mains"
                    : "on battery: " + (run.binariesOnlyByPower ? "binaries only (--usepkgonly)" : "running anyway")));
        }
        config.maxLoad().ifPresent(max -> {
            var load = HostChecks.load(procDir);
            run.check("load", load.isEmpty() ? Verdict.ok("load average unknown")
                    : load.getAsDouble() <= max ? Verdict.ok("load " + load.getAsDouble() + " <= " + max)
                    : Verdict.no("load " + load.getAsDouble() + " above binhost.update.max-load=" + max));
        });
        if (!run.blocking().isEmpty()) {
            return false;
        }
        Optional<Supplier<Verdict>> pull = refresher.get();
        if (pull.isPresent()) {
            current.set(new Current(run.id, run.reason, "config-pull", run.started, run.progress));
            Verdict v;
            try {
                v = pull.get().get();
            } catch (RuntimeException e) {
                v = Verdict.no("config pull failed: " + e);
            }
            run.check("config-pulled", v);
        }
        return run.blocking().isEmpty();
    }

    private RunRecord planAndApply(Run run, List<String> args) throws IOException, InterruptedException {
        List<String> pretendArgs = new ArrayList<>(args);
        pretendArgs.add("--pretend");
        pretendArgs.add("--verbose");
        Path planLog = newLog(run.id + "-plan.log");
        run.planLog = planLog.toString();
        writeMarker(run, "plan", null);
        current.set(new Current(run.id, run.reason, "plan", run.started, run.progress));
        CommandResult planned = runner.run(Command.of("emerge-plan", argv(pretendArgs)).log(planLog)
                .deadline(config.planDeadline()).build());
        EmergePlan plan = EmergePlan.parse(Files.readString(planLog, StandardCharsets.UTF_8));
        run.plan = plan;
        if (planned.timedOut() || planned.exitCode() != 0) {
            String why = planned.timedOut() ? "the plan passed its deadline of " + config.planDeadline()
                    : "emerge --pretend exited " + planned.exitCode() + plan.errors().stream().findFirst()
                            .map(n -> ": " + n.headline()).orElse(plan.hasUnsatisfiedHardBlocker()
                                    ? ": hard blocker " + plan.blockers().get(0).text() : "");
            run.exitCode = planned.exitCode();
            return run.end("plan-failed", why);
        }
        pending.set(plan.installCount());
        UpdatePolicy.Decision d = UpdatePolicy.decide(plan, config.mode(), config.binariesOnly(),
                config.maxLocalBuilds());
        run.policy = d.rule();
        switch (d.action()) {
            case NOTHING_TO_DO:
                return run.end("nothing-to-do", d.message());
            case REFUSE:
                return run.end("refused", d.message());
            case NOTIFY_ONLY:
                return run.end("planned", d.message());
            default:
                return apply(run, args);
        }
    }

    private RunRecord apply(Run run, List<String> args) throws IOException, InterruptedException {
        Path log = newLog(run.id + "-emerge.log");
        run.log = log.toString();
        current.set(new Current(run.id, run.reason, "apply", run.started, run.progress));
        // survives an agent restart: the next start finds the marker and records how far it got
        ProcessRunner.Running emerge = runner.start(Command.of("emerge", argv(args)).log(log).survivesAgent()
                .deadline(config.runDeadline()).onLine(run.progress::accept).build());
        writeMarker(run, "apply", emerge.pid());
        CommandResult result = emerge.await();
        EmergeOutcome o = EmergeOutcome.of(run.progress.snapshot(), EmergePlan.parse(result.outputTail()),
                result.exitCode(), result.timedOut());
        run.outcome = o;
        run.exitCode = o.exitCode();
        registry.counter("binhost.update.packages", "kind", "binary").increment(o.installedBinary());
        registry.counter("binhost.update.packages", "kind", "compiled").increment(o.installedCompiled());
        String outcome = switch (o.result()) {
            case SUCCESS -> "success";
            case FAILED -> "failed";
            case TIMED_OUT -> "timed-out";
        };
        if (o.result() == EmergeOutcome.Result.SUCCESS) {
            pending.set(0);
        }
        return run.end(outcome, o.message());
    }

    /** Creates the log file first: ProcessRunner measures an existing log's size to know where this run starts. */
    private Path newLog(String name) throws IOException {
        Files.createDirectories(logDir);
        Path log = logDir.resolve(name);
        if (!Files.exists(log)) {
            Files.createFile(log);
        }
        return log;
    }

    private List<String> argv(List<String> args) {
        List<String> argv = new ArrayList<>(config.emergeCommand());
        argv.addAll(args);
        return argv;
    }

    private void writeMarker(Run run, String phase, Long pid) throws IOException {
        DurableFile.replace(markerFile(), JSON.writeValueAsBytes(new Marker(run.record(null, null, null), phase, pid)));
    }

    /** The bookkeeping of one run. */
    private final class Run {
        final String id;
        final Reason reason;
        final String requestedBy;
        final Instant started;
        final List<RunRecord.Check> checks = new ArrayList<>();
        final EmergeProgress progress = new EmergeProgress();
        boolean binariesOnlyByPower;
        EmergePlan plan;
        String policy;
        EmergeOutcome outcome;
        Integer exitCode;
        String planLog;
        String log;

        Run(String id, Reason reason, String requestedBy, Instant started) {
            this.id = id;
            this.reason = reason;
            this.requestedBy = requestedBy;
            this.started = started;
        }

        void check(String name, Verdict v) {
            checks.add(new RunRecord.Check(name, v.ok(), v.detail()));
        }

        String blocking() {
            return String.join(", ", checks.stream().filter(c -> !c.ok())
                    .map(c -> c.name() + " (" + c.detail() + ")").toList());
        }

        RunRecord record(String endedAt, String outcomeName, String message) {
            RunRecord.Plan p = plan == null ? null : new RunRecord.Plan(plan.installCount(), plan.binaries().size(),
                    plan.compiled().size(), (int) plan.packages().stream()
                            .filter(x -> x.kind() == PlannedPackage.Kind.UNINSTALL).count(),
                    plan.compiled().stream().map(c -> new RunRecord.Compiled(c.cpv(),
                            c.reason().map(r -> r.kind().name().toLowerCase().replace('_', '-')).orElse(""),
                            c.reason().map(CompileReason::text).orElse(""))).toList(),
                    plan.notices().stream().filter(n -> n.severity() != EmergePlan.Severity.INFO)
                            .map(EmergePlan.Notice::headline).toList());
            return new RunRecord(id, reason.name().toLowerCase().replace('_', '-'), requestedBy, started.toString(),
                    endedAt, List.copyOf(checks), p, policy, outcomeName, exitCode,
                    outcome == null ? null : outcome.failedPackage().orElse(null),
                    outcome == null ? null : outcome.failedPhase().orElse(null), message,
                    outcome == null ? null : outcome.installedBinary(),
                    outcome == null ? null : outcome.installedCompiled(), planLog, log);
        }

        RunRecord end(String outcomeName, String message) {
            Instant ended = clock.instant();
            RunRecord r = record(ended.toString(), outcomeName, message);
            try {
                // a catch-up or resume retried every few minutes while the master is down would flood the history
                if (!(outcomeName.equals("skipped") && (reason == Reason.CATCH_UP || reason == Reason.RESUME))) {
                    history.append(r);
                }
                Files.deleteIfExists(markerFile());
            } catch (IOException e) {
                Log.errorf(e, "Cannot record update run %s in %s", id, history.file());
            }
            registry.counter("binhost.update.runs", "outcome", outcomeName).increment();
            Timer.builder("binhost.update.duration").description("Time an update run took, preconditions to outcome")
                    .tag("outcome", outcomeName).register(registry).record(Duration.between(started, ended));
            if (outcomeName.equals("success")) {
                lastSuccessEpoch.set(ended.getEpochSecond());
            }
            if (outcomeName.equals("skipped")) {
                Log.infof("Update run %s (%s) skipped: %s", id, reason, message);
            } else {
                Log.infof("Update run %s (%s): %s: %s", id, reason, outcomeName, message);
            }
            notifyAfter(r);
            return r;
        }
    }

    private void notifyAfter(RunRecord r) {
        if (config.notifyCommand().isEmpty()) {
            return;
        }
        boolean failure = List.of("failed", "timed-out", "plan-failed", "refused", "error", "interrupted")
                .contains(r.outcome());
        boolean change = failure || (r.installedBinary() != null && r.installedBinary() + r.installedCompiled() > 0)
                || "planned".equals(r.outcome());
        boolean wanted = switch (config.notifyOn()) {
            case ALWAYS -> true;
            case FAILURE -> failure;
            case CHANGE -> change;
        };
        if (!wanted) {
            return;
        }
        try {
            CommandResult res = runner.run(Command.of("notify", config.notifyCommand().get())
                    .stdin((RunHistory.json(r) + "\n").getBytes(StandardCharsets.UTF_8))
                    .deadline(config.notifyDeadline()).build());
            if (!res.succeeded()) {
                Log.warnf("Notify command: %s: %s", res.summary(), res.lastLine());
            }
        } catch (IOException e) {
            Log.warnf("Notify command could not start: %s", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Removes this runner's gauges (the agent is stopping); see {@link OwnedMeters}. */
    void removeGauges() {
        gauges.removeAll();
    }
}
