package dev.binhost.agent.history;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.binhost.agent.followup.FollowUp;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * One update run as the history keeps it: why it ran, when, what blocked or allowed it, what the plan said and
 * how it ended. Times are ISO-8601 strings so the JSON line reads the same everywhere.
 *
 * @param outcome  how it ended ({@link RunOutcome}, written by its tag); null only in the marker of a run in progress
 * @param merge    what the real emerge did according to Portage's records; null when no emerge ran
 * @param resolution how the plan was made: {@code one-pass} (one emerge that printed its plan, was answered and
 *                 ran), {@code pretend-then-run}, or {@code pretend-then-run (one-pass failed: <why>)}; null when
 *                 the run made no plan (skipped, resume) or was recorded by a version without this field (left
 *                 out of the JSON then, so older lines read back and print as they were stored)
 * @param target   what this run emerged when not {@code @world}: {@code sys-apps/portage} (Portage first, as the
 *                 handbook advises) or {@code @preserved-rebuild}; null for the update of {@code @world}
 * @param follows  the id of the run this one follows (the rest after Portage, the rebuild after a run that left
 *                 preserved libraries); null for a run of its own
 * @param followUp what the run left for the admin (config files, preserved libraries, news, GLSAs, restarts, …),
 *                 collected after it; null when not collected (skipped runs, older versions)
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
        @JsonInclude(JsonInclude.Include.NON_NULL) String resolution,
        @JsonInclude(JsonInclude.Include.NON_NULL) Merge merge,
        @JsonInclude(JsonInclude.Include.NON_NULL) String target,
        @JsonInclude(JsonInclude.Include.NON_NULL) String follows,
        @JsonInclude(JsonInclude.Include.NON_NULL) FollowUp followUp) {

    /** A record without {@code resolution} and {@code merge} (as earlier versions wrote it). */
    public RunRecord(String id, String reason, String requestedBy, String startedAt, String endedAt,
            List<Check> preconditions, Plan plan, String policy, RunOutcome outcome, Integer exitCode,
            String failedPackage, String failedPhase, String message, Integer installedBinary,
            Integer installedCompiled, String planLog, String log) {
        this(id, reason, requestedBy, startedAt, endedAt, preconditions, plan, policy, outcome, exitCode,
                failedPackage, failedPhase, message, installedBinary, installedCompiled, planLog, log, null, null,
                null, null, null);
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

    /**
     * The plan in short: counts and the packages compiled here, with why. {@code fetched}: how many of the
     * binaries emerge fetches from a binhost (an http slave's, the plan's {@code g} flag); null when none, so an NFS
     * slave's records read as before.
     */
    public record Plan(int packages, int binaries, int compiled, int uninstalls, List<Compiled> compiledPackages,
            List<String> problems, @JsonInclude(JsonInclude.Include.NON_NULL) Integer fetched) {
        public Plan(int packages, int binaries, int compiled, int uninstalls, List<Compiled> compiledPackages,
                List<String> problems) {
            this(packages, binaries, compiled, uninstalls, compiledPackages, problems, null);
        }
    }

    /** A package the plan compiles locally. */
    public record Compiled(String cpv, String reason, String detail) {
    }

    /**
     * What the real emerge did, from Portage's records (installed database, emerge.log, resume list).
     *
     * @param binary       packages installed from the master's binaries
     * @param built        packages built here
     * @param failed       packages that started and did not complete
     * @param notInstalled packages the plan approved that the run did not install, with why
     * @param blockedBy    updates emerge reported it left out (missing dependency, conflict, mask)
     * @param resumeLeft   what emerge's resume list still holds
     * @param countsFrom   "records", or which record was missing and what stood in for it
     * @param notices      what emerge reported after the merge for the admin (preserved libraries, config files
     *                     waiting, unread news); empty when none
     * @param errorExcerpt the first failed package's last build output and emerge's error line; empty when none
     */
    public record Merge(List<String> binary, List<String> built, List<String> failed, List<Missing> notInstalled,
            List<String> blockedBy, List<String> resumeLeft, String countsFrom, List<String> notices,
            List<String> errorExcerpt) {
    }

    /** A package the plan approved that the run did not install, and why. */
    public record Missing(String cpv, String why) {
    }

    /** This run (a marker's record) ended as Portage's records tell: its outcome, counts and merge section. */
    public RunRecord endedWith(String endedAt, RunOutcome outcome, String message, Integer exitCode,
            String failedPackage, String failedPhase, Integer installedBinary, Integer installedCompiled, Merge merge) {
        return new RunRecord(id, reason, requestedBy, startedAt, endedAt, preconditions, plan, policy, outcome,
                exitCode, failedPackage, failedPhase, message, installedBinary, installedCompiled, planLog, log, resolution,
                merge, target, follows, followUp);
    }

    public RunRecord withEnd(String endedAt, RunOutcome outcome, String message) {
        return new RunRecord(id, reason, requestedBy, startedAt, endedAt, preconditions, plan, policy, outcome,
                exitCode, failedPackage, failedPhase, message, installedBinary, installedCompiled, planLog, log,
                resolution, merge, target, follows, followUp);
    }

    /** This record with what the run left for the admin. */
    public RunRecord withFollowUp(FollowUp f) {
        return new RunRecord(id, reason, requestedBy, startedAt, endedAt, preconditions, plan, policy, outcome,
                exitCode, failedPackage, failedPhase, message, installedBinary, installedCompiled, planLog, log,
                resolution, merge, target, follows, f);
    }

    /** What the run emerged: its target, {@code @world} when none is recorded. */
    public String targetOrWorld() {
        return target == null ? "@world" : target;
    }
}
