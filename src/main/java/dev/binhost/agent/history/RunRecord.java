package dev.binhost.agent.history;

import java.util.List;

/**
 * One update run as the history keeps it: why it ran, when, what blocked or allowed it, what the plan said and
 * how it ended. Times are ISO-8601 strings so the JSON line reads the same everywhere.
 *
 * @param outcome  success, failed, timed-out, skipped (a precondition blocked), refused (policy), planned
 *                 (notify-only), nothing-to-do, plan-failed, interrupted, error
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
        String outcome,
        Integer exitCode,
        String failedPackage,
        String failedPhase,
        String message,
        Integer installedBinary,
        Integer installedCompiled,
        String planLog,
        String log) {

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

    public RunRecord withEnd(String endedAt, String outcome, String message) {
        return new RunRecord(id, reason, requestedBy, startedAt, endedAt, preconditions, plan, policy, outcome,
                exitCode, failedPackage, failedPhase, message, installedBinary, installedCompiled, planLog, log);
    }
}
