package dev.binhost.agent.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RelativeTimeTest {
    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");

    private static String span(long millis) {
        return RelativeTime.span(Duration.ofMillis(millis));
    }

    @Test
    void span_eachUnitStartsAtItsBoundary_andRoundsDown() {
        assertEquals("0 s", span(0));
        assertEquals("0 s", span(999));
        assertEquals("59 s", span(59_999));
        assertEquals("1 min", span(60_000));
        assertEquals("1 min", span(119_999));
        assertEquals("59 min", span(3_599_999));
        assertEquals("1h", span(3_600_000));
        assertEquals("1h 1m", span(3_660_000));
        assertEquals("2h 3m", span(7_380_000));
        assertEquals("23h 59m", span(86_399_999));
        assertEquals("1d", span(86_400_000));
        assertEquals("1d 1h", span(90_000_000));
        assertEquals("12d 23h", span(12 * 86_400_000L + 23 * 3_600_000L + 59 * 60_000L));
    }

    @Test
    void span_negative_readsAsZero() {
        assertEquals("0 s", span(-5_000));
    }

    @Test
    void ago_pastAndSlightlyAhead() {
        assertEquals("4 min ago", RelativeTime.ago(NOW.minusSeconds(4 * 60 + 59), NOW));
        assertEquals("3h ago", RelativeTime.ago(NOW.minusSeconds(3 * 3600), NOW));
        // stamped by the agent a moment after the CLI read its clock
        assertEquals("0 s ago", RelativeTime.ago(NOW.plusMillis(300), NOW));
    }

    @Test
    void until_dueAndOverdue() {
        assertEquals("in 1h 12m", RelativeTime.until(NOW.plusSeconds(72 * 60 + 30), NOW));
        assertEquals("in 59 s", RelativeTime.until(NOW.plusSeconds(59), NOW));
        assertEquals("in 0 s", RelativeTime.until(NOW, NOW));
        assertEquals("overdue by 5 s", RelativeTime.until(NOW.minusSeconds(5), NOW));
    }
}
