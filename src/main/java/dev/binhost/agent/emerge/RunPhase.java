package dev.binhost.agent.emerge;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;

/**
 * What a run is doing: status shows it, the run marker keeps it so a restart can say in which phase the agent
 * stopped. Each has the exact name status and the marker have always used ({@link #tag()}).
 */
public enum RunPhase {
    PRECONDITIONS("preconditions"),
    CONFIG_PULL("config-pull"),
    PLAN("plan"),
    APPLY("apply"),
    /** After the run: collecting what it left for the admin (config files, preserved libraries, news, …). */
    FOLLOW_UP("follow-up");

    private final String tag;

    RunPhase(String tag) {
        this.tag = tag;
    }

    @JsonValue
    public String tag() {
        return tag;
    }

    /**
     * For reading a marker: a name this agent does not know (another version's) reads as null, so the run is
     * still recorded as interrupted, just without its phase.
     */
    @JsonCreator
    static RunPhase fromJson(String tag) {
        return Arrays.stream(values()).filter(p -> p.tag.equals(tag)).findFirst().orElse(null);
    }
}
