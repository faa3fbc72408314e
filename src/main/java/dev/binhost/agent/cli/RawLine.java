package dev.binhost.agent.cli;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A section the CLI does not know (added by a newer agent), or a known one it cannot read, shown as its raw
 * values on one line ({@code key=value, nested={a=1}, list=[x, y]}, nulls left out) so nothing is hidden. A
 * problem only when the section says so with an {@code error} entry (a failing status contributor).
 */
final class RawLine implements StatusLine.Renderer {
    @Override
    public StatusLine render(String area, Fields f, Instant now) {
        return of(area, f.raw());
    }

    static StatusLine of(String area, Object section) {
        boolean error = section instanceof Map<?, ?> m && m.get("error") != null;
        String text = compact(section);
        return new StatusLine(area, error, text.isEmpty() ? "(empty)" : text);
    }

    static String compact(Object value) {
        if (value instanceof Map<?, ?> map) {
            StringJoiner j = new StringJoiner(", ");
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (e.getValue() != null) {
                    j.add(e.getKey() + "=" + nested(e.getValue()));
                }
            }
            return j.toString();
        }
        if (value instanceof List<?> list) {
            StringJoiner j = new StringJoiner(", ");
            list.forEach(v -> j.add(nested(v)));
            return j.toString();
        }
        return String.valueOf(value);
    }

    private static String nested(Object value) {
        if (value instanceof Map<?, ?>) {
            return "{" + compact(value) + "}";
        }
        if (value instanceof List<?>) {
            return "[" + compact(value) + "]";
        }
        return String.valueOf(value);
    }
}
