package dev.binhost.agent.history;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;
import java.util.Optional;

/**
 * How an update run ended. Each has the exact name history.jsonl, the {@code binhost.update.runs} metric tag,
 * status and the notify command have always used ({@link #tag()}), so scripts reading them see no change.
 */
public enum RunOutcome {
    SUCCESS("success"),
    /** Some of the approved plan is installed, some not (each named with why in the run's merge section). */
    PARTIAL("partial"),
    /** emerge left out updates it reported (missing dependency, conflict, mask), even with exit 0. */
    BLOCKED("blocked"),
    FAILED("failed"),
    TIMED_OUT("timed-out"),
    /** A precondition blocked the run; nothing was planned. */
    SKIPPED("skipped"),
    /** The policy refused the plan. */
    REFUSED("refused"),
    /** notify-only: planned and reported, nothing installed. */
    PLANNED("planned"),
    NOTHING_TO_DO("nothing-to-do"),
    PLAN_FAILED("plan-failed"),
    /** The agent or the machine stopped during the run. */
    INTERRUPTED("interrupted"),
    /** The agent's own fault: a state file it could not write, an unexpected exception. */
    ERROR("error");

    private final String tag;

    RunOutcome(String tag) {
        this.tag = tag;
    }

    /** The name in the history, the metric tag, status and the notify command's JSON. */
    @JsonValue
    public String tag() {
        return tag;
    }

    /** The outcome named {@code tag}, or empty for a name this agent does not know (an older or newer one's). */
    public static Optional<RunOutcome> of(String tag) {
        return Arrays.stream(values()).filter(o -> o.tag.equals(tag)).findFirst();
    }

    /**
     * For reading JSON: an unknown name fails this one line with a message naming it; the history's lenient
     * reader then skips the line with one warning, as it does any unusable line.
     */
    @JsonCreator
    static RunOutcome fromJson(String tag) {
        return of(tag).orElseThrow(() -> new IllegalArgumentException("unknown outcome '" + tag + "'"));
    }

    /** Outcomes that need the admin's attention: the notify command reports them under {@code notify-on=failure}. */
    public boolean failure() {
        return switch (this) {
            case FAILED, PARTIAL, BLOCKED, TIMED_OUT, PLAN_FAILED, REFUSED, ERROR, INTERRUPTED -> true;
            case SUCCESS, SKIPPED, PLANNED, NOTHING_TO_DO -> false;
        };
    }

    /** False only when a precondition blocked the run: a scheduled run stays owed, a resume stays owed. */
    public boolean gotThrough() {
        return this != SKIPPED;
    }
}
