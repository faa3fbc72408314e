package dev.binhost.agent.emerge;

import java.util.List;

/**
 * Decides what a run does with its plan: apply it, only report it (notify-only), or refuse it because a rule
 * forbids it (binaries only, too many local builds). A refusal names the rule and the packages that broke it.
 */
public final class UpdatePolicy {

    /** The decision, with the rule that made it and the packages concerned. */
    public record Decision(Action action, String rule, List<String> packages, String message) {
    }

    /** What happens next. */
    public enum Action { APPLY, NOTIFY_ONLY, REFUSE, NOTHING_TO_DO }

    private UpdatePolicy() {
    }

    public static Decision decide(EmergePlan plan, UpdateConfig.Mode mode, UpdateConfig.BinariesOnly binariesOnly,
            int maxLocalBuilds) {
        if (plan.installCount() == 0 && plan.packages().isEmpty()) {
            return new Decision(Action.NOTHING_TO_DO, "plan", List.of(), "nothing to update");
        }
        List<String> compiled = plan.compiled().stream()
                .map(p -> p.cpv() + p.reason().map(r -> " (" + r.text() + ")").orElse("")).toList();
        if (binariesOnly == UpdateConfig.BinariesOnly.REFUSE && !compiled.isEmpty()) {
            return new Decision(Action.REFUSE, "binaries-only", compiled, "refused by binhost.update.binaries-only="
                    + "refuse: " + compiled.size() + " package(s) would be compiled here: " + String.join("; ", compiled));
        }
        if (maxLocalBuilds >= 0 && compiled.size() > maxLocalBuilds) {
            return new Decision(Action.REFUSE, "max-local-builds", compiled, "refused by binhost.update.max-local-builds="
                    + maxLocalBuilds + ": " + compiled.size() + " package(s) would be compiled here: "
                    + String.join("; ", compiled));
        }
        if (mode == UpdateConfig.Mode.NOTIFY_ONLY) {
            return new Decision(Action.NOTIFY_ONLY, "notify-only", compiled, "binhost.update.mode=notify-only: "
                    + plan.installCount() + " package(s) pending (" + plan.binaries().size() + " binary, "
                    + compiled.size() + " compiled); nothing installed");
        }
        return new Decision(Action.APPLY, "apply", compiled, "applying " + plan.installCount() + " package(s) ("
                + plan.binaries().size() + " binary, " + compiled.size() + " compiled)");
    }
}
