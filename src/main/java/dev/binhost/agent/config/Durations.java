package dev.binhost.agent.config;

import java.time.Duration;

/** Durations as admins write them in the config file: 30s, 5m, 1h30m, 250ms. */
public final class Durations {
    private Durations() {
    }

    public static String human(Duration d) {
        if (d.isNegative()) {
            return "-" + human(d.negated());
        }
        if (d.isZero()) {
            return "0s";
        }
        if (d.toMillis() < 1000) {
            return d.toMillis() + "ms";
        }
        StringBuilder sb = new StringBuilder();
        long h = d.toHours();
        int m = d.toMinutesPart();
        int s = d.toSecondsPart();
        int ms = d.toMillisPart();
        if (h > 0) {
            sb.append(h).append('h');
        }
        if (m > 0) {
            sb.append(m).append('m');
        }
        if (s > 0 || ms > 0) {
            sb.append(s);
            if (ms > 0) {
                sb.append('.').append(String.format("%03d", ms).replaceAll("0+$", ""));
            }
            sb.append('s');
        }
        return sb.toString();
    }
}
