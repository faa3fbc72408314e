package dev.binhost.agent.emerge;

import java.util.Optional;

/**
 * How a real emerge run ended, from its exit status and output: success, the package (and phase) that failed,
 * a deadline, or a refusal before anything was merged (blocker, missing dependency).
 */
public record EmergeOutcome(Result result, int exitCode, Optional<String> failedPackage, Optional<String> failedPhase,
        int installedBinary, int installedCompiled, String message) {

    /** The kinds of ending. */
    public enum Result { SUCCESS, FAILED, TIMED_OUT }

    /** Derives the outcome; {@code output} may be the whole log or its tail (progress is then partial). */
    public static EmergeOutcome of(String output, int exitCode, boolean timedOut) {
        return of(EmergeProgress.of(output), EmergePlan.parse(output), exitCode, timedOut);
    }

    /** Derives the outcome from a progress already followed live and the plan part of the output. */
    public static EmergeOutcome of(EmergeProgress.Snapshot p, EmergePlan printedPlan, int exitCode, boolean timedOut) {
        if (timedOut) {
            return new EmergeOutcome(Result.TIMED_OUT, exitCode, p.current(), Optional.empty(), p.completedBinary(),
                    p.completedCompiled(), "emerge passed its deadline" + p.current().map(c -> " while emerging " + c)
                            .orElse("") + " after " + p.completed() + " of " + p.total() + " packages; killed");
        }
        if (exitCode == 0 && p.failedPackage().isEmpty()) {
            return new EmergeOutcome(Result.SUCCESS, 0, Optional.empty(), Optional.empty(), p.completedBinary(),
                    p.completedCompiled(), p.total() == 0 ? "nothing to merge"
                            : "merged " + p.completed() + " packages (" + p.completedBinary() + " binary, "
                                    + p.completedCompiled() + " compiled)");
        }
        if (p.failedPackage().isPresent()) {
            return new EmergeOutcome(Result.FAILED, exitCode, p.failedPackage(), p.failedPhase(), p.completedBinary(),
                    p.completedCompiled(), p.failedPackage().get() + " failed"
                            + p.failedPhase().map(ph -> " in the " + ph + " phase").orElse("")
                            + " (exit " + exitCode + ") after " + p.completed() + " of " + p.total() + " packages");
        }
        String why = printedPlan.errors().stream().findFirst().map(EmergePlan.Notice::headline)
                .or(() -> printedPlan.hasUnsatisfiedHardBlocker()
                        ? Optional.of("hard blocker: " + printedPlan.blockers().get(0).text()) : Optional.empty())
                .or(() -> p.current().map(c -> "stopped while emerging " + c))
                .orElse("no failing package named in the output");
        return new EmergeOutcome(Result.FAILED, exitCode, p.current(), Optional.empty(), p.completedBinary(),
                p.completedCompiled(), "emerge exited " + exitCode + ": " + why);
    }
}
