package dev.binhost.agent.cli;

import java.time.Duration;
import java.time.Instant;

/**
 * Times as an admin reads them at a glance ("4 min ago", "in 1h 12m") instead of ISO instants with nanoseconds.
 * "Now" is always a parameter, so the same status renders the same text in a test as on a machine.
 *
 * <p>One scale everywhere: under a minute in seconds ("59 s"), under an hour in whole minutes ("59 min"), under
 * a day in hours and minutes ("23h 59m"), then days and hours ("1d 2h"); a zero second unit is left out ("1h").
 * Each unit is rounded down, so a span never reads longer than it was.
 */
public final class RelativeTime {
    private RelativeTime() {
    }

    /** A length of time on the scale above; a negative one counts as zero. */
    public static String span(Duration d) {
        long s = d.isNegative() ? 0 : d.getSeconds();
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return s / 60 + " min";
        }
        if (s < 86400) {
            return pair(s / 3600, "h", s % 3600 / 60, "m");
        }
        return pair(s / 86400, "d", s % 86400 / 3600, "h");
    }

    /** How long from {@code since} to {@code now} ("UP for 2h 3m"). */
    public static String span(Instant since, Instant now) {
        return span(Duration.between(since, now));
    }

    /**
     * A past instant: "4 min ago". One slightly ahead of {@code now} (the agent stamped it a moment after the
     * CLI read its clock) reads "0 s ago" rather than a confusing future.
     */
    public static String ago(Instant then, Instant now) {
        return span(then, now) + " ago";
    }

    /** A due instant: "in 1h 12m", or "overdue by 5 s" once it has passed. */
    public static String until(Instant due, Instant now) {
        Duration d = Duration.between(now, due);
        return d.isNegative() ? "overdue by " + span(d.negated()) : "in " + span(d);
    }

    private static String pair(long major, String majorUnit, long minor, String minorUnit) {
        return minor == 0 ? major + majorUnit : major + majorUnit + " " + minor + minorUnit;
    }
}
