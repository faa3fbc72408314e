package dev.binhost.agent.cli;

import dev.binhost.agent.history.RunRecord;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * One update run of {@code binhost-agent history} as one line: when it started (UTC, to the second), its
 * outcome, why it ran, how long it took, what it did or why not, and its id (the name of its logs).
 */
final class RunLine {
    private RunLine() {
    }

    /** The record is one {@link dev.binhost.agent.history.RunHistory#read()} accepted: its times are ISO-8601. */
    static String of(RunRecord run) {
        Instant started = Instant.parse(run.startedAt());
        String took = run.endedAt() == null ? "?" : RelativeTime.span(started, Instant.parse(run.endedAt()));
        return String.format("%-20s  %-13s  %-8s  %7s  %s  (%s)", started.truncatedTo(ChronoUnit.SECONDS),
                run.outcome().tag(), run.reason(), took, what(run), run.id());
    }

    private static String what(RunRecord run) {
        StringBuilder s = new StringBuilder();
        if (run.target() != null) {
            // a run of its own target: Portage first, or the rebuild after preserved libraries
            s.append(run.target()).append(run.follows() == null ? "" : " after " + run.follows()).append(": ");
        }
        if (run.failedPackage() != null) {
            s.append("at ").append(run.failedPackage());
            if (run.failedPhase() != null) {
                s.append(" (").append(run.failedPhase()).append(')');
            }
        }
        String sep = s.isEmpty() || s.toString().endsWith(": ") ? "" : ": ";
        if (run.message() != null && !run.message().isBlank()) {
            s.append(sep).append(run.message());
        } else if (run.installedBinary() != null || run.installedCompiled() != null) {
            s.append(sep).append(count(run.installedBinary())).append(" binary, ")
                    .append(count(run.installedCompiled())).append(" built");
        }
        return s.isEmpty() ? "-" : s.toString();
    }

    private static int count(Integer n) {
        return n == null ? 0 : n;
    }
}
