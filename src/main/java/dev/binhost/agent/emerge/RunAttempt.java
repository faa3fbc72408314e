package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.spi.Verdict;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One update run from its start to its record: what it checked, planned and ran, and how it ended. Closing it
 * records the run (history, metrics, the notify command) exactly once, on every path: a run that ends without
 * saying how (a bug, an unexpected exception the runner reported with {@link #crashed}) is recorded as
 * {@link RunOutcome#ERROR}. Used on the run's thread only; status reads {@link #phase()} and the progress.
 *
 * <pre>{@code
 * RunAttempt run = runner.begin(reason, by);
 * try (run) {
 *     runner.perform(run);
 * }
 * RunRecord recorded = run.record();
 * }</pre>
 */
public final class RunAttempt implements AutoCloseable {
    /** Writes the run's record wherever it goes; called once, by {@link #close()}. */
    @FunctionalInterface
    interface Recorder {
        RunRecord record(RunAttempt attempt);
    }

    private final String id;
    private final UpdateRunner.Reason reason;
    private final String requestedBy;
    private final Instant startedAt;
    private final Recorder recorder;
    private final String target;
    private final String follows;
    private final EmergeProgress progress = new EmergeProgress();
    private final List<RunRecord.Check> checks = new ArrayList<>();
    private volatile RunPhase phase = RunPhase.PRECONDITIONS;
    boolean binariesOnlyByPower;
    EmergePlan plan;
    String policy;
    MergeReport merged;
    List<String> notices = List.of();
    List<String> errorExcerpt = List.of();
    Integer exitCode;
    String planLog;
    String log;
    String resolution;
    /** The world run decided to update Portage alone first: this run emerges sys-apps/portage only. */
    boolean portageFirst;
    /** Where elog stood when the run began (its messages are what was written since); null without follow-ups. */
    dev.binhost.agent.followup.ElogMark elogMark;
    private RunOutcome outcome;
    private String message;
    private RunRecord recorded;
    private boolean closed;

    RunAttempt(String id, UpdateRunner.Reason reason, String requestedBy, Instant startedAt, Recorder recorder) {
        this(id, reason, requestedBy, startedAt, recorder, null, null);
    }

    /**
     * @param target  null for {@code @world}; {@link UpdateRunner#PRESERVED_REBUILD} for a rebuild run
     * @param follows the id of the run this one follows, or null
     */
    RunAttempt(String id, UpdateRunner.Reason reason, String requestedBy, Instant startedAt, Recorder recorder,
            String target, String follows) {
        this.id = id;
        this.reason = reason;
        this.requestedBy = requestedBy;
        this.startedAt = startedAt;
        this.recorder = recorder;
        this.target = target;
        this.follows = follows;
    }

    /** What the run emerges: null for @world, {@code @preserved-rebuild}, or Portage once it went first. */
    public String target() {
        return portageFirst ? UpdateRunner.PORTAGE : target;
    }

    public String follows() {
        return follows;
    }

    /**
     * Whether this run is {@code emerge --resume}: a resume itself, not the @preserved-rebuild that follows it
     * (which keeps the resume's reason but has a target of its own).
     */
    boolean resumes() {
        return reason == UpdateRunner.Reason.RESUME && target == null && follows == null;
    }

    public String requestedBy() {
        return requestedBy;
    }

    public String id() {
        return id;
    }

    public UpdateRunner.Reason reason() {
        return reason;
    }

    public Instant startedAt() {
        return startedAt;
    }

    public RunPhase phase() {
        return phase;
    }

    public EmergeProgress progress() {
        return progress;
    }

    void phase(RunPhase now) {
        phase = now;
    }

    void check(String name, Verdict v) {
        checks.add(new RunRecord.Check(name, v.ok(), v.detail()));
    }

    /** Every check made so far, in order. */
    List<RunRecord.Check> checks() {
        return List.copyOf(checks);
    }

    /** The checks that blocked, each with its detail; empty when none did. */
    String blocking() {
        return String.join(", ", checks.stream().filter(c -> !c.ok())
                .map(c -> c.name() + " (" + c.detail() + ")").toList());
    }

    /** How the run ended; the first ending stands (a later one is a bug in the caller and is ignored). */
    public void end(RunOutcome how, String why) {
        if (outcome == null) {
            outcome = how;
            message = why;
        }
    }

    /** The run's own code threw: it ends as an error naming the exception, unless it had already ended. */
    void crashed(Throwable t) {
        end(RunOutcome.ERROR, "unexpected " + t + " in the " + phase.tag() + " phase");
    }

    public Optional<RunOutcome> outcome() {
        return Optional.ofNullable(outcome);
    }

    String message() {
        return message;
    }

    /** Records the run; once only, whatever path got here. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        end(RunOutcome.ERROR, "the run ended in the " + phase.tag() + " phase without an outcome");
        recorded = recorder.record(this);
    }

    /** What was recorded; only after {@link #close()}. */
    public RunRecord record() {
        if (recorded == null) {
            throw new IllegalStateException("run " + id + " not recorded yet");
        }
        return recorded;
    }

    /** The history's merge section of a report. */
    static RunRecord.Merge mergeOf(MergeReport m, List<String> notices, List<String> errorExcerpt) {
        return new RunRecord.Merge(
                m.installed().stream().filter(MergeReport.Installed::binary).map(MergeReport.Installed::cpv).toList(),
                m.installed().stream().filter(i -> !i.binary()).map(MergeReport.Installed::cpv).toList(),
                m.failed(), m.notInstalled().stream().map(n -> new RunRecord.Missing(n.cpv(), n.why())).toList(),
                m.blockedBy(), m.resumeLeft(), m.source(), notices, errorExcerpt);
    }

    private static Integer fetched(EmergePlan plan) {
        int n = (int) plan.packages().stream().filter(PlannedPackage::remote).count();
        return n == 0 ? null : n;
    }

    /** The record as of now: {@code endedAt}, {@code outcome} and {@code message} null while it runs (the marker). */
    RunRecord snapshot(String endedAt, RunOutcome how, String why) {
        RunRecord.Plan p = plan == null ? null : new RunRecord.Plan(plan.installCount(), plan.binaries().size(),
                plan.compiled().size(), (int) plan.packages().stream()
                        .filter(x -> x.kind() == PlannedPackage.Kind.UNINSTALL).count(),
                plan.compiled().stream().map(c -> new RunRecord.Compiled(c.cpv(),
                        c.reason().map(r -> r.kind().name().toLowerCase().replace('_', '-')).orElse(""),
                        c.reason().map(CompileReason::text).orElse(""))).toList(),
                plan.notices().stream().filter(n -> n.severity() != EmergePlan.Severity.INFO)
                        .map(EmergePlan.Notice::headline).toList(),
                fetched(plan));
        MergeReport m = merged;
        RunRecord.Merge merge = m == null ? null : mergeOf(m, notices, errorExcerpt);
        return new RunRecord(id, reason.tag(), requestedBy, startedAt.toString(), endedAt, List.copyOf(checks), p,
                policy, how, exitCode, m == null || m.failed().isEmpty() ? null : m.failed().get(0),
                m == null ? null : m.failedPhase().orElse(null), why,
                m == null ? null : m.installedBinary(), m == null ? null : m.installedCompiled(), planLog, log,
                resolution, merge, target(), follows, null);
    }
}
