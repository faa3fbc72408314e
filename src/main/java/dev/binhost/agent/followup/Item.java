package dev.binhost.agent.followup;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;
import java.util.List;

/**
 * One thing a careful admin looks at after an update (config files waiting, preserved libraries, …), as far as it
 * could be found out: how many there are and which, in words a person reads ({@code items} holds at most
 * {@link #MAX_ITEMS}; {@code count} is the true number). A tool that is not installed, or a check that is off, is
 * not a failure of the run and says so in {@code status}.
 *
 * @param count  how many need attention; null unless {@code status} is {@link Status#OK}
 * @param detail what was run or read, or why nothing is known ("glsa-check not found in PATH")
 */
public record Item(Status status, Integer count, List<String> items,
        @JsonInclude(JsonInclude.Include.NON_NULL) String detail) {
    /** Items kept per kind: enough to name what to do, short enough for a notify message. */
    public static final int MAX_ITEMS = 50;

    /** Whether the item is known, and if not, why. */
    public enum Status {
        OK("ok"),
        /** The tool that tells (glsa-check, needrestart) is not installed on this slave. */
        NOT_INSTALLED("not-installed"),
        /** The tool ran and failed, passed its deadline, or printed what the agent cannot read. */
        FAILED("failed"),
        /** Turned off in the config, or not known at this moment (no run has planned yet). */
        OFF("off");

        private final String tag;

        Status(String tag) {
            this.tag = tag;
        }

        @JsonValue
        public String tag() {
            return tag;
        }

        @JsonCreator
        static Status fromJson(String tag) {
            return Arrays.stream(values()).filter(s -> s.tag.equals(tag)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown follow-up status '" + tag + "'"));
        }
    }

    public Item {
        items = items == null ? List.of() : List.copyOf(items);
    }

    /** Known: these items ({@code all}, cut to {@link #MAX_ITEMS}), counted. */
    public static Item of(List<String> all, String detail) {
        return new Item(Status.OK, all.size(), all.size() > MAX_ITEMS ? all.subList(0, MAX_ITEMS) : all, detail);
    }

    /** Known as a number only (depclean's count when its list could not be read). */
    public static Item counted(int count, List<String> some, String detail) {
        return new Item(Status.OK, count, some.size() > MAX_ITEMS ? some.subList(0, MAX_ITEMS) : some, detail);
    }

    public static Item notInstalled(String detail) {
        return new Item(Status.NOT_INSTALLED, null, List.of(), detail);
    }

    public static Item failed(String detail) {
        return new Item(Status.FAILED, null, List.of(), detail);
    }

    public static Item off(String detail) {
        return new Item(Status.OFF, null, List.of(), detail);
    }

    /** Known and more than none. */
    public boolean pending() {
        return status == Status.OK && count != null && count > 0;
    }

    /** For a gauge: the count, or NaN when it is not known (an alert on {@code > 0} then stays quiet). */
    public double gauge() {
        return status == Status.OK && count != null ? count : Double.NaN;
    }
}
