package dev.binhost.agent.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * All configured mounts on one line: the stale or failed ones first with their phase, age and detail, then the
 * rest by name. Not mounted is not a problem by itself: the agent releases mounts on purpose while the master is
 * down.
 */
final class MountsLine implements StatusLine.Renderer {
    private static final Set<String> BROKEN = Set.of("STALE", "ERROR");

    @Override
    public StatusLine render(String area, Fields f, Instant now) {
        if (f.raw().isEmpty()) {
            return new StatusLine(area, false, "none configured");
        }
        List<String> broken = new ArrayList<>();
        List<String> other = new ArrayList<>();
        List<String> mounted = new ArrayList<>();
        for (Map.Entry<?, ?> e : f.raw().entrySet()) {
            String name = String.valueOf(e.getKey());
            Fields m = Fields.of(e.getValue());
            String phase = m.required("phase");
            boolean pending = Boolean.TRUE.equals(m.bool("releasePending"));
            if (phase.equals("MOUNTED") && !pending) {
                mounted.add(name);
                continue;
            }
            StringBuilder one = new StringBuilder(name).append(' ')
                    .append(phase.equals("NOT_MOUNTED") ? "not mounted" : phase);
            Instant since = m.instant("since");
            if (since != null && !phase.equals("NOT_MOUNTED")) {
                one.append(" for ").append(RelativeTime.span(since, now));
            }
            if (pending) {
                one.append(", release pending");
            }
            if (m.text("detail") != null) {
                one.append(": ").append(m.text("detail"));
            }
            (BROKEN.contains(phase) ? broken : other).add(one.toString());
        }
        List<String> parts = new ArrayList<>(broken);
        parts.addAll(other);
        if (!mounted.isEmpty()) {
            parts.add(String.join(", ", mounted) + " mounted");
        }
        return new StatusLine(area, !broken.isEmpty(), String.join("; ", parts));
    }
}
