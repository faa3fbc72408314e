package dev.binhost.agent.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Update runs on one line: the run in progress, how the last one ended and how long ago, and when the next is
 * due. A problem when the last run did not end well: it failed, or a precondition blocked it (skipped) or the
 * policy refused it, since then this slave is not being updated.
 */
final class UpdateLine implements StatusLine.Renderer {
    /** Outcomes that need nobody's attention. */
    private static final Set<String> FINE = Set.of("success", "planned", "nothing-to-do");

    @Override
    public StatusLine render(String area, Fields f, Instant now) {
        if (!f.has("last")) {
            throw new Fields.Unreadable("no last");
        }
        List<String> parts = new ArrayList<>();
        Fields running = f.section("running");
        if (running != null) {
            parts.add(running(running, now));
        }
        Fields last = f.section("last");
        String outcome = last == null ? null : last.text("outcome");
        if (last != null) {
            parts.add(last(last, outcome, now));
        } else if (running == null) {
            parts.add("no run yet");
        }
        if (Boolean.TRUE.equals(f.bool("queued"))) {
            parts.add("another run queued");
        }
        if (Boolean.TRUE.equals(f.bool("catchUpOwed"))) {
            parts.add("a missed run is owed");
        }
        Instant next = f.instant("nextScheduled");
        if (next != null) {
            parts.add("next run " + RelativeTime.until(next, now));
        }
        Fields prefetch = f.section("prefetch");
        if (prefetch != null) {
            parts.add(prefetch(prefetch, now));
        }
        boolean problem = outcome != null && !FINE.contains(outcome);
        return new StatusLine(area, problem, String.join("; ", parts));
    }

    /** The download-only step: never a problem of its own (the install fetches what it did not). */
    private static String prefetch(Fields p, Instant now) {
        StringBuilder s = new StringBuilder();
        if (Boolean.TRUE.equals(p.bool("running"))) {
            s.append("prefetching now");
        } else {
            Fields last = p.section("last");
            if (last == null) {
                s.append("no prefetch yet");
            } else {
                Instant ended = last.instant("endedAt");
                s.append("last prefetch");
                if (ended != null) {
                    s.append(' ').append(RelativeTime.ago(ended, now));
                }
                String outcome = last.text("outcome");
                s.append(": ").append(outcome == null ? "outcome unknown" : outcome);
                if ("success".equals(outcome)) {
                    Long n = last.number("packages");
                    Long bytes = last.number("bytes");
                    s.append(", ").append(n == null ? 0 : n).append(n != null && n == 1 ? " binary" : " binaries");
                    if (bytes != null) {
                        s.append(" (").append(size(bytes)).append(')');
                    }
                } else if (last.text("message") != null) {
                    s.append(": ").append(last.text("message"));
                }
            }
        }
        Instant next = p.instant("next");
        if (next != null) {
            s.append("; next prefetch ").append(RelativeTime.until(next, now));
        }
        return s.toString();
    }

    private static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return (bytes + 512) / 1024 + " KiB";
        }
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    private static String running(Fields run, Instant now) {
        StringBuilder s = new StringBuilder("running");
        Instant started = run.instant("startedAt");
        if (started != null) {
            s.append(" for ").append(RelativeTime.span(started, now));
        }
        List<String> what = new ArrayList<>();
        for (String key : List.of("reason", "phase", "progress")) {
            if (run.text(key) != null) {
                what.add(run.text(key));
            }
        }
        if (!what.isEmpty()) {
            s.append(" (").append(String.join(", ", what)).append(')');
        }
        return s.toString();
    }

    private static String last(Fields last, String outcome, Instant now) {
        Instant ended = last.instant("endedAt") != null ? last.instant("endedAt") : last.instant("startedAt");
        StringBuilder s = new StringBuilder("last run");
        if (ended != null) {
            s.append(' ').append(RelativeTime.ago(ended, now));
        }
        s.append(": ").append(outcome == null ? "outcome unknown" : outcome);
        // what was installed (Portage's records); an older agent's status has only the plan's counts
        Long binaries = last.number("installedBinary") != null ? last.number("installedBinary") : last.number("binaries");
        Long compiled = last.number("installedCompiled") != null ? last.number("installedCompiled")
                : last.number("compiled");
        if ("success".equals(outcome) && (binaries != null || compiled != null)) {
            s.append(", ").append(binaries == null ? 0 : binaries).append(" binary, ")
                    .append(compiled == null ? 0 : compiled).append(" built");
        } else if (last.text("message") != null) {
            s.append(": ").append(last.text("message"));
        }
        List<String> notices = last.texts("notices");
        if (!notices.isEmpty()) {
            s.append("; emerge left for you: ").append(String.join(", ", notices));
        }
        return s.toString();
    }
}
