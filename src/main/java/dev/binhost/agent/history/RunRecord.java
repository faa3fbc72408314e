package dev.binhost.agent.history;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * One update run as the history keeps it: why it ran, when, what blocked or allowed it, what the plan said and
 * how it ended. Times are ISO-8601 strings so the JSON line reads the same everywhere.
 *
 * @param outcome  how it ended ({@link RunOutcome}, written by its tag); null only in the marker of a run in progress
 * @param resolution how the plan was made: {@code one-pass} (one emerge that printed its plan, was answered and
 *                 ran), {@code pretend-then-run}, or {@code pretend-then-run (one-pass failed: <why>)}; null when
 *                 the run made no plan (skipped, resume) or was recorded by a version without this field (left
 *                 out of the JSON then, so older lines read back and print as they were stored)
 */
public record RunRecord(
        String id,
        String reason,
        String requestedBy,
        String startedAt,
        String endedAt,
        List<Check> preconditions,
        Plan plan,
        String policy,
        RunOutcome outcome,
        Integer exitCode,
        String failedPackage,
        String failedPhase,
        String message,
        Integer installedBinary,
        Integer installedCompiled,
        String planLog,
        String log,
        @JsonInclude(JsonInclude.Include.NON_NULL) String resolution) {

    /** A record without {@code resolution} (as earlier versions wrote it). */
    public RunRecord(String id, String reason, String requestedBy, String startedAt, String endedAt,
            List<Check> preconditions, Plan plan, String policy, RunOutcome outcome, Integer exitCode,
            String failedPackage, String failedPhase, String message, Integer installedBinary,
            Integer installedCompiled, String planLog, String log) {
        this(id, reason, requestedBy, startedAt, endedAt, preconditions, plan, policy, outcome, exitCode,
                failedPackage, failedPhase, message, installedBinary, installedCompiled, planLog, log, null);
    }

    /**
     * Why this record, as read back from a state file, cannot be used (what the agent would trip over at start:
     * a missing id or time, an unknown outcome, a null list), or empty when it is sound. {@code finished} false
     * checks a run still in progress (the interrupted-run marker): no end time or outcome yet.
     */
    public Optional<String> problem(boolean finished) {
        if (id == null || id.isBlank()) {
            return Optional.of("no id");
        }
        Optional<String> time = badTime("startedAt", startedAt);
        if (time.isPresent()) {
            return time;
        }
        if (finished) {
            time = badTime("endedAt", endedAt);
            if (time.isPresent()) {
                return time;
            }
            if (outcome == null) {
                return Optional.of("no outcome");
            }
        }
        if (preconditions != null && preconditions.contains(null)) {
            return Optional.of("a null precondition");
        }
        if (plan != null && (plan.compiledPackages() == null || plan.compiledPackages().contains(null)
                || plan.problems() == null || plan.problems().contains(null))) {
            return Optional.of("plan without its package lists");
        }
        return Optional.empty();
    }

    private static Optional<String> badTime(String field, String value) {
        if (value == null) {
            return Optional.of("no " + field);
        }
        try {
            Instant.parse(value);
            return Optional.empty();
        } catch (DateTimeParseException e) {
            return Optional.of(field + " '" + value + "' is not an ISO-8601 instant");
        }
    }

    /** A precondition's verdict. */
    public record Check(String name, boolean ok, String detail) {
    }

    /** The plan in short: counts and the packages compiled here, with why. */
    public record Plan(int packages, int binaries, int compiled, int uninstalls, List<Compiled> compiledPackages,
            List<String> problems) {
    }

    /** A package the plan compiles locally. */
    public record Compiled(String cpv, String reason, String detail) {
    }

    public RunRecord withEnd(String endedAt, RunOutcome outcome, String message) {
        return new RunRecord(id, reason, requestedBy, startedAt, endedAt, preconditions, plan, policy, outcome,
                exitCode, failedPackage, failedPhase, message, installedBinary, installedCompiled, planLog, log,
                resolution);
    }
}
