package dev.binhost.agent.emerge;

import dev.binhost.agent.followup.FollowUp;
import dev.binhost.agent.binhost.Binhost;
import dev.binhost.agent.binhost.PackagesConfig;
import dev.binhost.agent.followup.FollowUps;
import dev.binhost.agent.followup.Item;
import dev.binhost.agent.history.RunHistory;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.metrics.OwnedMeters;
import dev.binhost.agent.posix.Posix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.Verdict;
import dev.binhost.agent.state.DurableFile;
import dev.binhost.agent.state.Json;
import dev.binhost.agent.state.StateDir;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One update run, start to end: the agent's lock, the preconditions, the config pull, the pretend plan, the
 * policy, the real emerge, the outcome; persisted in the history, counted in metrics, announced to the notify
 * command. A plain class (no CDI) so tests drive it against the stand-in emerge. Each run is a {@link RunAttempt}
 * whose close records it, so a run is recorded exactly once on every path, an unexpected exception included.
 *
 * <p>While a run is past its preconditions a marker file ({@code current-run.json}) in the state dir holds its
 * record; it is removed when the run's history line is written. A marker found on start-up is a run the agent
 * or the machine did not finish: {@link #recoverInterrupted()} records it as interrupted.
 */
public class UpdateRunner implements Prefetch.Runs {
    /** The package the handbook says to update alone first. */
    public static final String PORTAGE = "sys-apps/portage";
    /** The set a rebuild run emerges after a run left preserved libraries. */
    public static final String PRESERVED_REBUILD = "@preserved-rebuild";
    /**
     * The target of the run that follows one whose binary failed its digest or signature check, under
     * {@code binhost.packages.on-bad-binary=build-locally}: {@code @world} again with that package built here
     * ({@code --usepkg-exclude <category/name>}; the other binaries are still fetched, record 71).
     */
    public static final String BUILD_HERE = "build-here:";
    private static final Pattern CPV_VERSION = Pattern.compile(
            "^(.+?)-\\d[^-]*(?:-r\\d+)?$");

    /** Why a run started; goes into the history. */
    public enum Reason {
        SCHEDULE, TRIGGER, CATCH_UP, RESUME;

        /** The name in the history and status: schedule, trigger, catch-up, resume. */
        public String tag() {
            return name().toLowerCase().replace('_', '-');
        }
    }

    /** What a running run is doing, for status. */
    public record Current(String id, Reason reason, RunPhase phase, Instant startedAt, EmergeProgress progress) {
    }

    /**
     * The marker of a run in progress; {@code phase} null when another version wrote a phase this one lacks.
     * {@code records} is where Portage's records stood when emerge started (null before it did, or when an
     * older version wrote the marker).
     */
    public record Marker(RunRecord record, RunPhase phase, Long emergePid, RecordsMark records) {
    }

    /**
     * Where Portage's records stood before emerge started: emerge.log's size, the vdb's highest COUNTER (-1 for
     * an empty vdb; null when the vdb could not be read, so the run is judged by emerge.log alone).
     */
    public record RecordsMark(long logOffset, Long counter) {
    }

    /** The start of a run's id (and a prefetch's): its UTC start time. */
    static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
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
    private final AtomicReference<RunAttempt> current = new AtomicReference<>();
    private final AtomicLong lastSuccessEpoch = new AtomicLong();
    private final AtomicLong pending = new AtomicLong();
    private volatile Orphan orphan;
    private final PortageRecords records;
    private final FollowUps followUps;
    /** Where binaries come from: emerge's --getbinpkg arguments and the index to explain local builds with. */
    private volatile Binhost binhost;
    private final AtomicReference<FollowUp> lastFollowUp = new AtomicReference<>();

    /** A runner that collects no follow-ups and takes no follow-up action (tests of the run alone). */
    public UpdateRunner(UpdateConfig config, Path stateDir, Path logDir, Path procDir, ProcessRunner runner,
            Posix posix,
            Supplier<List<RunPrecondition>> preconditions, Supplier<Optional<Supplier<Verdict>>> refresher,
            Clock clock, MeterRegistry registry) {
        this(config, stateDir, logDir, procDir, runner, posix, preconditions, refresher, clock, registry, null);
    }

    /** {@code followUps}: what is collected after each run and the follow-up policies; null for none. */
    public UpdateRunner(UpdateConfig config, Path stateDir, Path logDir, Path procDir, ProcessRunner runner,
            Posix posix,
            Supplier<List<RunPrecondition>> preconditions, Supplier<Optional<Supplier<Verdict>>> refresher,
            Clock clock, MeterRegistry registry, FollowUps followUps) {
        this.followUps = followUps;
        this.config = config;
        this.stateDir = stateDir;
        this.logDir = logDir;
        this.procDir = procDir;
        this.runner = runner;
        this.posix = posix;
        this.preconditions = preconditions;
        this.refresher = refresher;
        this.records = new PortageRecords(config.eroot());
        this.history = new RunHistory(new StateDir(stateDir).history(), config.historyKeep());
        this.clock = clock;
        this.registry = registry;
        for (String check : List.of("digest", "signature")) {
            badBinaries(check); // at 0 from the start, so an alert on its increase sees the first one
        }
        this.gauges = new OwnedMeters(registry);
        // strong references: a gauge holds its object weakly, and reads NaN once the object is collected (a test
        // that let go of its runner saw it); OwnedMeters removes them when the runner closes
        gauges.add(Gauge.builder("binhost.update.last.success", lastSuccessEpoch, AtomicLong::get).strongReference(true)
                .baseUnit("seconds").description("Unix time of the last successful update run").register(registry));
        gauges.add(Gauge.builder("binhost.update.pending", pending, AtomicLong::get).strongReference(true)
                .description("Packages the last plan would install").register(registry));
        for (String kind : List.of("binary", "compiled")) {
            registry.counter("binhost.update.packages", "kind", kind);
        }
        if (followUps != null) {
            for (FollowUp.Kind kind : FollowUp.Kind.values()) {
                gauges.add(Gauge.builder("binhost.followup.pending", lastFollowUp,
                                f -> f.get() == null ? Double.NaN : f.get().items().get(kind).gauge())
                        .tag("kind", kind.tag())
                        .description("What the last update left for the admin, by kind (NaN: not known)")
                        .strongReference(true).register(registry));
            }
        }
    }

    /**
     * Reads the history once, off the start-up path (the update loop's first step): the last success for its
     * gauge. Until then the gauge reads 0.
     */
    public void load() {
        // the history skips unusable lines, so every success read back has a valid endedAt
        List<RunRecord> all = history.read();
        all.stream().filter(r -> r.outcome() == RunOutcome.SUCCESS).reduce((a, b) -> b)
                .ifPresent(r -> lastSuccessEpoch.compareAndSet(0, Instant.parse(r.endedAt()).getEpochSecond()));
        all.stream().filter(r -> r.followUp() != null).reduce((a, b) -> b)
                .ifPresent(r -> lastFollowUp.compareAndSet(null, r.followUp()));
    }

    /** What the last run left for the admin, as collected after it; empty before any was. */
    public Optional<FollowUp> lastFollowUp() {
        return Optional.ofNullable(lastFollowUp.get());
    }

    public Optional<FollowUps> followUps() {
        return Optional.ofNullable(followUps);
    }

    public RunHistory history() {
        return history;
    }

    public Optional<Current> current() {
        return Optional.ofNullable(current.get())
                .map(a -> new Current(a.id(), a.reason(), a.phase(), a.startedAt(), a.progress()));
    }

    public long pending() {
        return pending.get();
    }

    Path markerFile() {
        return new StateDir(stateDir).runMarker();
    }

    Path lastRunFile() {
        return new StateDir(stateDir).lastRun();
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
            marker = Json.mapper().readValue(markerFile().toFile(), Marker.class);
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
        boolean stillRunning = marker.emergePid() != null && alive(marker.emergePid());
        if (stillRunning && marker.records() != null && marker.phase() == RunPhase.APPLY) {
            // what emerge had done and still had to do when the agent came back: the run's whole list
            List<MergeReport.Expected> expected = new ArrayList<>(records.startedSince(marker.records()));
            MergeReport.Expected.fromResume(records.resumeList()).stream()
                    .filter(e -> expected.stream().noneMatch(x -> x.cpv().equals(e.cpv()))).forEach(expected::add);
            orphan = new Orphan(marker, marker.emergePid(), List.copyOf(expected));
            Log.warnf("Update run %s: its emerge (pid %d) went on while the agent was away; watching it to its end",
                    r.id(), marker.emergePid());
            return Optional.empty();
        }
        RunRecord ended;
        String why = "the agent stopped during " + (marker.phase() == null ? "its run"
                : "the " + marker.phase().tag() + " phase");
        if (marker.records() != null) {
            MergeReport report = records.report(List.of(), null, marker.records(),
                    new EmergeProgress().snapshot(), -1, false);
            ended = r.endedWith(clock.instant().toString(), RunOutcome.INTERRUPTED, why + "; Portage's records show "
                    + report.installed().size() + " packages merged (" + report.installedBinary() + " binary, "
                    + report.installedCompiled() + " compiled)" + (stillRunning ? "; emerge (pid "
                    + marker.emergePid() + ") is still running" : ""), null, null, null, report.installedBinary(),
                    report.installedCompiled(), RunAttempt.mergeOf(report, List.of(), List.of()));
            pending.set(report.resumeLeft().size());
        } else {
            // a marker from before the records mark (an older version's): only emerge's terminal log tells
            String progress = logOf(r).filter(Files::exists).map(p -> {
                EmergeProgress.Snapshot s = terminalOf(r);
                return "; its log shows " + s.completed() + " of " + s.total() + " packages merged"
                        + s.current().map(c -> ", " + c + " in progress").orElse("");
            }).orElse("");
            ended = r.withEnd(clock.instant().toString(), RunOutcome.INTERRUPTED, why + progress
                    + (stillRunning ? "; emerge (pid " + marker.emergePid() + ") is still running" : ""));
        }
        history.append(ended);
        registry.counter("binhost.update.runs", "outcome", RunOutcome.INTERRUPTED.tag()).increment();
        Files.deleteIfExists(markerFile());
        Log.warnf("Update run %s was interrupted: %s", r.id(), ended.message());
        return Optional.of(ended);
    }

    /** An emerge this agent's previous start began, still running after the restart. */
    public record Orphan(Marker marker, long pid, List<MergeReport.Expected> expected) {
    }

    /** The emerge left running across the agent's restart, while it runs. */
    public Optional<Orphan> orphan() {
        return Optional.ofNullable(orphan);
    }

    private boolean alive(long pid) {
        return posix.kill((int) pid, 0) && HostChecks.emergePids(procDir).contains(pid);
    }

    /**
     * Checks on the emerge left running across a restart; once it has ended, records its run from Portage's
     * records (its exit status as emerge logged it) like any run, and returns that record.
     */
    public Optional<RunRecord> watchOrphan() throws IOException {
        Orphan o = orphan;
        if (o == null || alive(o.pid())) {
            return Optional.empty();
        }
        orphan = null;
        OptionalInt logged = records.exitStatusSince(o.marker().records());
        RunRecord r = o.marker().record();
        MergeReport report = records.report(o.expected(), null, o.marker().records(), terminalOf(r),
                logged.orElse(-1), false);
        RunOutcome outcome = logged.isEmpty() && report.result() == MergeReport.Result.FAILED
                ? RunOutcome.INTERRUPTED : outcomeOf(report.result());
        String message = "emerge (pid " + o.pid() + ") ran on while the agent restarted"
                + (logged.isEmpty() ? " and ended without logging its exit (killed?)" : "") + "; " + report.message();
        RunRecord ended = r.endedWith(clock.instant().toString(), outcome, message,
                logged.isPresent() ? logged.getAsInt() : null,
                report.failed().isEmpty() ? null : report.failed().get(0), report.failedPhase().orElse(null),
                report.installedBinary(), report.installedCompiled(), RunAttempt.mergeOf(report, List.of(), List.of()));
        history.append(ended);
        Files.deleteIfExists(markerFile());
        registry.counter("binhost.update.runs", "outcome", outcome.tag()).increment();
        countMerged(report);
        if (outcome == RunOutcome.SUCCESS) {
            lastSuccessEpoch.set(clock.instant().getEpochSecond());
        }
        Log.infof("Update run %s (left running across a restart): %s: %s", r.id(), outcome.tag(), message);
        try {
            notifyAfter(ended);
        } catch (RuntimeException e) {
            Log.errorf(e, "Notify command after run %s failed", r.id());
        }
        return Optional.of(ended);
    }

    /** Where a run's emerge got according to its terminal log; an empty snapshot when there is none. */
    private static EmergeProgress.Snapshot terminalOf(RunRecord r) {
        return logOf(r).filter(Files::exists).map(p -> {
            try {
                return EmergeProgress.of(new String(Files.readAllBytes(p), StandardCharsets.UTF_8));
            } catch (IOException e) {
                return new EmergeProgress().snapshot();
            }
        }).orElseGet(() -> new EmergeProgress().snapshot());
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

    /**
     * Runs one update to its end on the calling thread, then the runs it calls for ({@link #next}), and returns
     * what the history recorded for each, in order.
     */
    public List<RunRecord> runAll(Reason reason, String requestedBy) {
        List<RunRecord> done = new ArrayList<>();
        Optional<RunAttempt> next = Optional.of(begin(reason, requestedBy));
        while (next.isPresent()) {
            RunAttempt run = next.get();
            try (run) {
                perform(run);
            }
            done.add(run.record());
            next = next(run.record());
        }
        return done;
    }

    /** Runs one update (and what it calls for) and returns the first record: the run asked for. */
    public RunRecord run(Reason reason, String requestedBy) {
        return runAll(reason, requestedBy).get(0);
    }

    /** Starts a run: it shows in {@link #current()} until it is closed, which records it. */
    public RunAttempt begin(Reason reason, String requestedBy) {
        return begin(reason, requestedBy, null, null);
    }

    private RunAttempt begin(Reason reason, String requestedBy, String target, String follows) {
        Instant started = clock.instant();
        String id = ID.format(started) + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        RunAttempt run = new RunAttempt(id, reason, requestedBy, started, this::record, target, follows);
        run.elogMark = followUps == null ? null : followUps.elogMark();
        current.set(run);
        return run;
    }

    /**
     * The package (category/name) a run's bad binary names when policy {@code on-bad-binary=build-locally}
     * calls for building it here: once (never after a run that follows another), and never when binaries only
     * are allowed (emerge would then drop the package instead).
     */
    private Optional<String> badBinaryToBuildHere(RunRecord r) {
        if (binhost == null || binhost.config().onBadBinary() != PackagesConfig.OnBadBinary.BUILD_LOCALLY
                || r.follows() != null || r.target() != null || r.failedPackage() == null
                || config.binariesOnly() != UpdateConfig.BinariesOnly.OFF
                || !(r.outcome() == RunOutcome.FAILED || r.outcome() == RunOutcome.PARTIAL)
                || !EmergeProgress.badBinaryPhase(r.failedPhase())) {
            return Optional.empty();
        }
        Matcher m = CPV_VERSION.matcher(r.failedPackage());
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * The run a recorded one calls for, begun (it shows in {@link #current()}), or empty: after Portage went
     * first and succeeded, the rest of {@code @world}; after a run that left preserved libraries, the
     * {@code @preserved-rebuild} run (policy {@code binhost.followup.preserved-rebuild}, never after a rebuild, so
     * a rebuild that leaves some is reported, not repeated). Same reason and requester as the run it follows.
     */
    public Optional<RunAttempt> next(RunRecord r) {
        Reason reason = Reason.valueOf(r.reason().toUpperCase().replace('-', '_'));
        if (PORTAGE.equals(r.target())) {
            return r.outcome() == RunOutcome.SUCCESS
                    ? Optional.of(begin(reason, r.requestedBy(), null, r.id())) : Optional.empty();
        }
        Optional<String> buildHere = badBinaryToBuildHere(r);
        if (buildHere.isPresent()) {
            Log.infof("Update run %s: the binary of %s failed its %s; a run that builds it here follows"
                    + " (binhost.packages.on-bad-binary=build-locally)", r.id(), r.failedPackage(),
                    r.failedPhase().replace("binary ", ""));
            return Optional.of(begin(reason, r.requestedBy(), BUILD_HERE + buildHere.get(), r.id()));
        }
        boolean rebuild = followUps != null && followUps.config().preservedRebuild()
                && config.mode() == UpdateConfig.Mode.APPLY && !PRESERVED_REBUILD.equals(r.target())
                && r.followUp() != null && r.followUp().preservedLibs() != null
                && r.followUp().preservedLibs().pending()
                && switch (r.outcome()) {
                    case SUCCESS, PARTIAL, BLOCKED, FAILED, NOTHING_TO_DO -> true;
                    default -> false;
                };
        if (rebuild) {
            Log.infof("Update run %s left %d preserved libraries: emerge %s follows", r.id(),
                    r.followUp().preservedLibs().count(), PRESERVED_REBUILD);
            return Optional.of(begin(reason, r.requestedBy(), PRESERVED_REBUILD, r.id()));
        }
        return Optional.empty();
    }

    /**
     * Does the run's work on the calling thread and says how it ended. The agent's own faults end it as an
     * error: a state file it cannot write, or an unexpected exception (logged with its trace; an {@link Error}
     * is recorded, then thrown on).
     */
    void perform(RunAttempt run) {
        try {
            steps(run);
        } catch (IOException e) {
            Log.errorf(e, "Update run %s failed", run.id());
            run.end(RunOutcome.ERROR, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            run.end(RunOutcome.INTERRUPTED, "the agent is shutting down");
        } catch (RuntimeException e) {
            Log.errorf(e, "Update run %s failed unexpectedly in the %s phase", run.id(), run.phase().tag());
            run.crashed(e);
        } catch (Error e) {
            run.crashed(e);
            throw e;
        }
    }

    private void steps(RunAttempt run) throws IOException, InterruptedException {
        try (Posix.FileLock lock = posix.tryLock(new StateDir(stateDir).updateLock())) {
            if (!lock.acquired()) {
                run.check("agent-lock", Verdict.no("another binhost-agent holds " + new StateDir(stateDir).updateLock()));
                run.end(RunOutcome.SKIPPED, "blocked by agent-lock");
                return;
            }
            run.check("agent-lock", Verdict.ok("held"));
            if (!checkPreconditions(run)) {
                run.end(RunOutcome.SKIPPED, "blocked by " + run.blocking());
                return;
            }
            Files.writeString(lastRunFile(), run.startedAt().toString() + "\n");
            if (run.resumes()) {
                apply(run, List.of("--resume"));
                return;
            }
            planAndApply(run, emergeArgs(run.target(), run.binariesOnlyByPower));
        }
    }

    /** emerge's arguments for a run of {@code target} (null: the configured @world update). */
    private List<String> emergeArgs(String target, boolean binariesOnlyByPower) {
        List<String> args = new ArrayList<>(PRESERVED_REBUILD.equals(target)
                ? List.of("--usepkg", PRESERVED_REBUILD) : config.emergeArgs());
        if (target != null && target.startsWith(BUILD_HERE)) {
            args.add("--usepkg-exclude");
            args.add(target.substring(BUILD_HERE.length()));
        }
        config.exclude().ifPresent(atoms -> atoms.forEach(a -> {
            args.add("--exclude");
            args.add(a);
        }));
        if (binariesOnlyByPower || config.binariesOnly() == UpdateConfig.BinariesOnly.USEPKGONLY) {
            args.add("--usepkgonly");
        }
        if (binhost != null) {
            List<String> fetched = binhost.args(args);
            args.clear();
            args.addAll(fetched);
        }
        // binaries only asked for here or in make.conf's EMERGE_DEFAULT_OPTS: emerge then ignores USE and deps
        List<String> effective = new ArrayList<>(defaultOpts());
        effective.addAll(args);
        args.addAll(UsepkgOnly.safetyArgs(effective));
        return args;
    }

    /**
     * The prefetch's arguments: the @world run's (on mains, so never binaries-only by power) with
     * {@code --fetchonly}, so it downloads exactly what that run would install.
     */
    @Override
    public List<String> prefetchArgs() {
        List<String> args = new ArrayList<>(List.of("--fetchonly"));
        args.addAll(emergeArgs(null, false));
        return args;
    }

    /**
     * The checks that would block a run started now, each with its detail (empty when none): the features'
     * preconditions, another emerge, power, load; not the agent's lock or the config pull, which a run takes
     * itself. A trigger answers with them at once instead of queueing a run that would only be skipped.
     */
    @Override
    public List<RunRecord.Check> blockingNow() {
        RunAttempt probe = new RunAttempt("probe", Reason.TRIGGER, "", clock.instant(), a -> null);
        immediateChecks(probe);
        return probe.checks().stream().filter(c -> !c.ok()).toList();
    }

    private Counter badBinaries(String check) {
        return Counter.builder("binhost.update.bad.binaries")
                .description("Runs that stopped at a binary failing its digest or signature check")
                .tag("check", check).register(registry);
    }

    /** An HTTP binhost: runs fetch with --getbinpkg, and local builds are explained by its index. */
    public void binhost(Binhost binhost) {
        this.binhost = binhost;
    }

    private EmergePlan explain(EmergePlan plan, List<String> args) {
        return BuildReasons.explain(plan, config.makeConf(), args,
                binhost == null ? Optional.empty() : binhost.remoteIndex());
    }

    /** make.conf's EMERGE_DEFAULT_OPTS as words; empty when make.conf cannot be read (BuildReasons says so). */
    private List<String> defaultOpts() {
        try {
            String opts = dev.binhost.agent.portage.MakeConf.evaluate(dev.binhost.agent.portage.MakeConf
                    .read(config.makeConf())).get("EMERGE_DEFAULT_OPTS");
            return opts == null || opts.isBlank() ? List.of() : List.of(opts.strip().split("\\s+"));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private boolean checkPreconditions(RunAttempt run) {
        if (!immediateChecks(run)) {
            return false;
        }
        Optional<Supplier<Verdict>> pull = refresher.get();
        if (pull.isPresent()) {
            run.phase(RunPhase.CONFIG_PULL);
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

    private boolean immediateChecks(RunAttempt run) {
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
        return run.blocking().isEmpty();
    }

    private void planAndApply(RunAttempt run, List<String> args) throws IOException, InterruptedException {
        run.resolution = "pretend-then-run";
        if (config.resolution() == UpdateConfig.Resolution.ONE_PASS) {
            Optional<String> failed = onePass(run, args);
            if (failed.isEmpty()) {
                return;
            }
            Log.warnf("Update run %s: one-pass resolution failed (%s); planning with --pretend", run.id(), failed.get());
            run.resolution = "pretend-then-run (one-pass failed: " + failed.get() + ")";
            run.plan = null;
            run.policy = null;
            run.planLog = null;
            run.log = null;
        }
        List<String> pretendArgs = new ArrayList<>(args);
        pretendArgs.add("--pretend");
        pretendArgs.add("--verbose");
        Path planLog = newLog(run.id() + "-plan.log");
        run.planLog = planLog.toString();
        run.phase(RunPhase.PLAN);
        writeMarker(run, null, null);
        CommandResult planned = runner.run(Command.of("emerge-plan", argv(pretendArgs)).log(planLog)
                .deadline(config.planDeadline()).build());
        // why each package is built here, from the master's Packages index (BuildReasons)
        String planText = Files.readString(planLog, StandardCharsets.UTF_8);
        EmergePlan plan = explain(EmergePlan.parse(planText), args);
        run.plan = plan;
        List<String> unreachable = binhost == null ? List.of() : EmergePlan.unreachableBinhosts(planText);
        if (!unreachable.isEmpty() && !planned.timedOut()) {
            // emerge would go on without the binhost and compile every package here: not what the admin wants
            run.exitCode = planned.exitCode();
            run.end(RunOutcome.PLAN_FAILED, "the binhost did not answer while emerge planned ("
                    + String.join("; ", unreachable) + "); not run, since emerge would build "
                    + plan.compiled().size() + " packages here instead of fetching them; the next run tries again");
            return;
        }
        if (planned.timedOut() || planned.exitCode() != 0) {
            String why = planned.timedOut() ? "the plan passed its deadline of " + config.planDeadline()
                    : "emerge --pretend exited " + planned.exitCode() + plan.whyRefused().map(w -> ": " + w).orElse("");
            run.exitCode = planned.exitCode();
            run.end(RunOutcome.PLAN_FAILED, why);
            return;
        }
        pending.set(plan.installCount());
        UpdatePolicy.Decision d = UpdatePolicy.decide(plan, config.mode(), config.binariesOnly(),
                config.maxLocalBuilds());
        run.policy = d.rule();
        switch (d.action()) {
            case NOTHING_TO_DO -> nothingToDo(run, plan, d);
            case REFUSE -> run.end(RunOutcome.REFUSED, d.message());
            case NOTIFY_ONLY -> run.end(RunOutcome.PLANNED, d.message());
            default -> {
                if (portageFirst(run, plan)) {
                    applyPortageFirst(run, args);
                } else {
                    apply(run, args);
                }
            }
        }
    }

    /**
     * Whether this world run should update Portage alone first (policy {@code binhost.followup.portage-first}):
     * the plan merges sys-apps/portage together with other packages, in a run of its own (not one that follows).
     */
    private boolean portageFirst(RunAttempt run, EmergePlan plan) {
        // never in a follow-on run: a rest whose plan still names Portage merges it with the rest, no loop
        if (followUps == null || !followUps.config().portageFirst() || run.target() != null || run.follows() != null) {
            return false;
        }
        List<MergeReport.Expected> all = MergeReport.Expected.fromPlan(plan.packages());
        return all.size() > 1 && all.stream().anyMatch(e -> isPortage(e.cpv()));
    }

    static boolean isPortage(String cpv) {
        return cpv.startsWith(PORTAGE + "-") && cpv.length() > PORTAGE.length() + 1
                && Character.isDigit(cpv.charAt(PORTAGE.length() + 1));
    }

    /**
     * Emerges Portage alone ({@code --oneshot sys-apps/portage} with the run's options), as the handbook advises
     * before the rest; the rest of {@code @world} follows as its own run, planned by the new Portage.
     */
    private void applyPortageFirst(RunAttempt run, List<String> args) throws IOException, InterruptedException {
        run.portageFirst = true;
        List<String> portageArgs = optionsOf(args);
        portageArgs.add("--oneshot");
        portageArgs.add(PORTAGE);
        String rest = run.plan.packages().stream().filter(p -> p.kind() == PlannedPackage.Kind.BINARY
                || p.kind() == PlannedPackage.Kind.EBUILD).filter(p -> !isPortage(p.cpv())).count() + "";
        Log.infof("Update run %s: the plan updates Portage: emerging %s alone first, then the other %s packages",
                run.id(), PORTAGE, rest);
        apply(run, portageArgs);
    }

    /** emerge options whose value is the next word ({@code --with-bdeps y}, {@code --exclude cat/pkg}). */
    private static final java.util.Set<String> OPTIONS_WITH_VALUE = java.util.Set.of("--with-bdeps", "--jobs", "-j",
            "--load-average", "--exclude", "--usepkg-exclude", "--backtrack", "--binpkg-respect-use",
            "--binpkg-changed-deps", "--quiet-build", "--rebuild-exclude", "--rebuild-ignore", "--reinstall-atoms",
            "--useoldpkg-atoms", "--color", "--root", "--config-root", "--prefix", "--sysroot", "--with-test-deps");

    /**
     * emerge's arguments without their targets (sets and atoms): options, their values, and the y/n an option
     * may take ({@code --keep-going y}).
     */
    static List<String> optionsOf(List<String> args) {
        List<String> options = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String before = i == 0 ? "" : args.get(i - 1);
            boolean value = before.startsWith("-") && (OPTIONS_WITH_VALUE.contains(before)
                    || a.matches("[yn]|True|False|\\d+"));
            if (a.startsWith("-") || value) {
                options.add(a);
            }
        }
        return options;
    }

    /**
     * Ends a run whose plan has nothing to merge: nothing to do, or blocked when emerge has nothing to merge
     * because it left updates out (they are pending, not done).
     */
    private void nothingToDo(RunAttempt run, EmergePlan plan, UpdatePolicy.Decision d) {
        List<String> left = MergeReport.blockers(plan);
        if (left.isEmpty()) {
            run.end(RunOutcome.NOTHING_TO_DO, d.message());
        } else {
            pending.set(MergeReport.blockedCount(plan));
            run.end(RunOutcome.BLOCKED, "nothing merged; emerge left out " + String.join("; ", left));
        }
    }

    /**
     * Plans and applies in one emerge ({@link AskedEmerge}): the policy decides on the plan emerge printed before
     * its question, and the answer makes the same process merge or quit. Returns why the protocol failed, when it
     * did and nothing was merged (its log is kept as {@code <id>-ask-failed.log}); the caller then falls back.
     */
    private Optional<String> onePass(RunAttempt run, List<String> args) throws IOException, InterruptedException {
        List<String> askArgs = new ArrayList<>(args);
        askArgs.add("--ask");
        askArgs.add("--verbose");
        Path log = newLog(run.id() + "-emerge.log");
        run.planLog = log.toString();
        run.log = log.toString();
        run.resolution = "one-pass";
        run.phase(RunPhase.PLAN);
        writeMarker(run, null, null);
        RecordsMark mark = records.mark();
        AtomicReference<UpdatePolicy.Decision> decided = new AtomicReference<>();
        AskedEmerge.Result asked;
        try {
            asked = new AskedEmerge(runner).run(argv(askArgs), config.planDeadline(), config.runDeadline(), log,
                    run.progress()::accept, (printed, pid) -> {
                        // why each package is built here, from the master's Packages index (BuildReasons)
                        EmergePlan plan = explain(printed, args);
                        run.plan = plan;
                        pending.set(plan.installCount());
                        UpdatePolicy.Decision d = UpdatePolicy.decide(plan, config.mode(), config.binariesOnly(),
                                config.maxLocalBuilds());
                        decided.set(d);
                        run.policy = d.rule();
                        if (d.action() != UpdatePolicy.Action.APPLY) {
                            return false;
                        }
                        if (portageFirst(run, plan)) {
                            // No to the whole plan: Portage goes alone first, in its own emerge
                            run.portageFirst = true;
                            return false;
                        }
                        run.phase(RunPhase.APPLY);
                        try {
                            // survives an agent restart: the next start finds the marker and records how far it got
                            writeMarker(run, pid, mark);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                        return true;
                    });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        EmergePlan plan = asked.plan();
        Optional<CommandResult> result = asked.command();
        switch (asked.ending()) {
            case PROTOCOL_FAILED -> {
                Files.move(log, logDir.resolve(run.id() + "-ask-failed.log"), StandardCopyOption.REPLACE_EXISTING);
                return asked.fallback();
            }
            case APPROVED -> finish(run, result.orElseThrow(), records,
                    MergeReport.Expected.fromPlan(run.plan.packages()), mark);
            case UNASKED -> {
                // emerge merged without asking, so no policy applied; what it did is still recorded as a run
                Log.warnf("Update run %s: %s", run.id(), asked.fallback().orElse("emerge did not ask"));
                run.plan = explain(plan, args);
                run.resolution = "one-pass (" + asked.fallback().orElse("emerge did not ask") + ")";
                finish(run, result.orElseThrow(), records, MergeReport.Expected.fromPlan(run.plan.packages()), mark);
            }
            case DECLINED -> {
                UpdatePolicy.Decision d = decided.get();
                if (run.portageFirst) {
                    run.portageFirst = false;
                    applyPortageFirst(run, args);
                    return Optional.empty();
                }
                switch (d.action()) {
                    case NOTHING_TO_DO -> nothingToDo(run, run.plan, d);
                    case REFUSE -> run.end(RunOutcome.REFUSED, d.message());
                    case NOTIFY_ONLY -> run.end(RunOutcome.PLANNED, d.message());
                    case APPLY -> throw new IllegalStateException("the policy applied the plan but No was answered");
                }
            }
            case NOTHING_TO_MERGE -> {
                run.plan = explain(plan, args);
                pending.set(plan.installCount());
                UpdatePolicy.Decision d = UpdatePolicy.decide(run.plan, config.mode(), config.binariesOnly(),
                        config.maxLocalBuilds());
                run.policy = d.rule();
                nothingToDo(run, run.plan, d);
            }
            case PLAN_FAILED, PROMPT_TIMEOUT -> {
                run.plan = plan;
                CommandResult planned = result.orElseThrow();
                String why = asked.ending() == AskedEmerge.Ending.PROMPT_TIMEOUT
                        ? "the plan passed its deadline of " + config.planDeadline() + " (emerge --ask had not asked)"
                        : "emerge --ask exited " + planned.exitCode() + " before asking"
                                + plan.whyRefused().map(w -> ": " + w).orElse("");
                run.exitCode = planned.exitCode();
                run.end(RunOutcome.PLAN_FAILED, why);
            }
        }
        return Optional.empty();
    }

    private void apply(RunAttempt run, List<String> args) throws IOException, InterruptedException {
        Path log = newLog(run.id() + "-emerge.log");
        run.log = log.toString();
        run.phase(RunPhase.APPLY);
        List<MergeReport.Expected> expected = run.resumes()
                ? MergeReport.Expected.fromResume(records.resumeList())
                : MergeReport.Expected.fromPlan(run.plan == null ? List.of() : run.plan.packages());
        if (run.portageFirst) {
            expected = expected.stream().filter(e -> isPortage(e.cpv())).toList();
        }
        RecordsMark mark = records.mark();
        // survives an agent restart: the next start finds the marker and records how far it got
        ProcessRunner.Running emerge = runner.start(Command.of("emerge", argv(args)).log(log).survivesAgent()
                .deadline(config.runDeadline()).onLine(run.progress()::accept).build());
        writeMarker(run, emerge.pid(), mark);
        finish(run, emerge.await(), records, expected, mark);
    }

    /**
     * Records what a real run (applied, or one-pass after its Yes) did, from Portage's records since
     * {@code mark}: counts, outcome, pending, the notices emerge left for the admin.
     */
    private void finish(RunAttempt run, CommandResult result, PortageRecords records,
            List<MergeReport.Expected> expected, RecordsMark mark) {
        EmergePlan printed = EmergePlan.parse(result.outputTail());
        MergeReport report = records.report(expected, run.plan != null ? run.plan : printed, mark,
                run.progress().snapshot(), result.exitCode(), result.timedOut());
        recordMerge(run, report);
        run.notices = records.notices(result.outputTail());
        run.errorExcerpt = records.errorExcerpt(report, result.outputTail());
        String message = run.portageFirst ? "Portage alone first, as the handbook advises (the rest follows in "
                + "its own run): " + report.message() : report.message();
        if (report.result() == MergeReport.Result.FAILED && report.failed().isEmpty() && !run.portageFirst) {
            // emerge failed before merging what was left: its own error says why (a blocker the real run found)
            Optional<String> why = printed.whyRefused();
            if (why.isPresent()) {
                message = "emerge exited " + report.exitCode() + ": " + why.get()
                        + message.substring(("emerge exited " + report.exitCode()).length());
            }
        }
        run.end(outcomeOf(report.result()), message);
    }

    private void recordMerge(RunAttempt run, MergeReport report) {
        run.merged = report;
        run.exitCode = report.exitCode();
        countMerged(report);
    }

    /** The packages metric and the pending gauge after a merge. */
    private void countMerged(MergeReport report) {
        registry.counter("binhost.update.packages", "kind", "binary").increment(report.installedBinary());
        registry.counter("binhost.update.packages", "kind", "compiled").increment(report.installedCompiled());
        pending.set(report.pending());
    }

    private static RunOutcome outcomeOf(MergeReport.Result result) {
        return switch (result) {
            case SUCCESS -> RunOutcome.SUCCESS;
            case PARTIAL -> RunOutcome.PARTIAL;
            case BLOCKED -> RunOutcome.BLOCKED;
            case FAILED -> RunOutcome.FAILED;
            case TIMED_OUT -> RunOutcome.TIMED_OUT;
        };
    }

    /** Creates the log file first: ProcessRunner measures an existing log's size to know where this run starts. */
    private Path newLog(String name) throws IOException {
        return newLog(logDir, name);
    }

    /** {@code <logDir>/<name>}, created empty when absent, before the command that writes it starts. */
    static Path newLog(Path logDir, String name) throws IOException {
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

    private void writeMarker(RunAttempt run, Long pid, RecordsMark mark) throws IOException {
        DurableFile.replace(markerFile(), Json.mapper().writeValueAsBytes(new Marker(run.snapshot(null, null, null),
                run.phase(), pid, mark)));
    }

    /**
     * Records a closed run: the history line, the marker's removal, the metrics, the log line, the notify
     * command. Each part's failure is logged and does not keep the others from happening.
     */
    private RunRecord record(RunAttempt run) {
        try {
            Instant ended = clock.instant();
            RunOutcome outcome = run.outcome().orElseThrow();
            RunRecord r = run.snapshot(ended.toString(), outcome, run.message());
            if (followUps != null && followUps.config().enabled() && outcome.gotThrough()) {
                r = r.withFollowUp(collectFollowUp(run));
            }
            try {
                // a catch-up or resume retried every few minutes while the master is down would flood the history
                if (outcome.gotThrough() || run.reason() == Reason.SCHEDULE || run.reason() == Reason.TRIGGER) {
                    history.append(r);
                }
                Files.deleteIfExists(markerFile());
            } catch (IOException | RuntimeException e) {
                Log.errorf(e, "Cannot record update run %s in %s", run.id(), history.file());
            }
            try {
                registry.counter("binhost.update.runs", "outcome", outcome.tag()).increment();
                if (EmergeProgress.badBinaryPhase(r.failedPhase())) {
                    badBinaries(EmergeProgress.DIGEST_CHECK.equals(r.failedPhase()) ? "digest" : "signature")
                            .increment();
                }
                Timer.builder("binhost.update.duration")
                        .description("Time an update run took, preconditions to outcome")
                        .tag("outcome", outcome.tag()).register(registry)
                        .record(Duration.between(run.startedAt(), ended));
            } catch (RuntimeException e) {
                Log.errorf(e, "Cannot count update run %s", run.id());
            }
            if (outcome == RunOutcome.SUCCESS) {
                lastSuccessEpoch.set(ended.getEpochSecond());
            }
            if (outcome.gotThrough()) {
                Log.infof("Update run %s (%s): %s: %s", run.id(), run.reason(), outcome.tag(), r.message());
            } else {
                Log.infof("Update run %s (%s) skipped: %s", run.id(), run.reason(), r.message());
            }
            try {
                notifyAfter(r);
            } catch (RuntimeException e) {
                Log.errorf(e, "Notify command after run %s failed", run.id());
            }
            return r;
        } finally {
            current.compareAndSet(run, null);
        }
    }

    /**
     * What the run left for the admin, collected now (each tool bounded by its deadline; one that fails or is
     * missing says so in its item and does not fail the run). Kept for status and the gauges.
     */
    private FollowUp collectFollowUp(RunAttempt run) {
        run.phase(RunPhase.FOLLOW_UP);
        FollowUp f;
        try {
            f = followUps.collect(run.id(), run.elogMark, portageItem(run));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Item stopped = Item.failed("the agent is shutting down");
            f = new FollowUp(clock.instant().toString(), run.id(), stopped, stopped, stopped, stopped, stopped,
                    portageItem(run), stopped, stopped);
        } catch (RuntimeException e) {
            Log.errorf(e, "Cannot collect the follow-ups of run %s", run.id());
            Item broken = Item.failed("unexpected " + e);
            f = new FollowUp(clock.instant().toString(), run.id(), broken, broken, broken, broken, broken,
                    portageItem(run), broken, broken);
        }
        lastFollowUp.set(f);
        List<String> attention = f.attention();
        if (!attention.isEmpty()) {
            Log.infof("Update run %s left for the admin: %s", run.id(), String.join("; ", attention));
        }
        return f;
    }

    /**
     * Portage pending an update, from the run's plan: a sys-apps/portage the plan merges and the run did not
     * install. Off for a run that made no plan (a resume), whose plan cannot tell.
     */
    private static Item portageItem(RunAttempt run) {
        if (run.plan == null) {
            return Item.off("no plan in this run");
        }
        List<String> planned = MergeReport.Expected.fromPlan(run.plan.packages()).stream()
                .map(MergeReport.Expected::cpv).filter(UpdateRunner::isPortage).toList();
        List<String> installed = run.merged == null ? List.of()
                : run.merged.installed().stream().map(MergeReport.Installed::cpv).toList();
        return Item.of(planned.stream().filter(p -> !installed.contains(p)).toList(), "the run's plan");
    }

    private void notifyAfter(RunRecord r) {
        if (config.notifyCommand().isEmpty()) {
            return;
        }
        boolean failure = r.outcome().failure();
        boolean change = failure || (r.installedBinary() != null && r.installedBinary() + r.installedCompiled() > 0)
                || r.outcome() == RunOutcome.PLANNED;
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
