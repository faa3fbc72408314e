package dev.binhost.agent.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The pulled portage config on one line: how long ago it was pulled and when the next pull is due. A problem
 * when it is stale (update runs may wait for a fresh pull), held at a rolled-back set, its last pull did not
 * succeed (even while the previous set is still fresh enough), or an interrupted apply was not recovered.
 */
final class ConfigLine implements StatusLine.Renderer {
    /** Pull outcomes after which the live tree is the master's. */
    private static final Set<String> PULLED = Set.of("APPLIED", "UNCHANGED");

    @Override
    public StatusLine render(String area, Fields f, Instant now) {
        if (!f.has("fresh")) {
            throw new Fields.Unreadable("no fresh");
        }
        boolean stale = Boolean.FALSE.equals(f.bool("fresh"));
        Instant held = f.instant("heldSince");
        String outcome = f.text("lastOutcome");
        boolean lastFailed = outcome != null && !PULLED.contains(outcome);
        String unrecovered = f.text("unrecovered");
        Instant lastSuccess = f.instant("lastSuccess");
        Instant lastAttempt = f.instant("lastAttempt");
        String message = f.text("lastMessage");

        List<String> parts = new ArrayList<>();
        if (unrecovered != null) {
            parts.add("an interrupted apply was not finished: " + unrecovered);
        }
        if (stale) {
            parts.add(lastSuccess == null ? "stale: no successful pull since the agent started"
                    : "stale: last good pull " + RelativeTime.ago(lastSuccess, now));
        }
        if (held != null) {
            parts.add("held at a rolled-back set for " + RelativeTime.span(held, now)
                    + " (`binhost-agent pull-config` resumes pulls)");
        }
        if (lastFailed) {
            parts.add("last pull " + outcome.toLowerCase(Locale.ROOT).replace('_', ' ')
                    + (lastAttempt == null ? "" : " " + RelativeTime.ago(lastAttempt, now))
                    + (message == null ? "" : ": " + message));
            if (!stale && lastSuccess != null) {
                parts.add("last good pull " + RelativeTime.ago(lastSuccess, now));
            }
        } else if (outcome != null) {
            Instant at = lastAttempt != null ? lastAttempt : lastSuccess;
            parts.add("pulled" + (at == null ? "" : " " + RelativeTime.ago(at, now))
                    + (message == null ? "" : ": " + message));
        } else if (!stale && held == null) {
            parts.add(lastSuccess == null ? "not pulled yet" : "pulled " + RelativeTime.ago(lastSuccess, now));
        }
        if (f.text("putOff") != null) {
            parts.add("pull put off: " + f.text("putOff"));
        }
        Instant next = f.instant("nextScheduled");
        if (next != null) {
            parts.add("next pull " + RelativeTime.until(next, now));
        }
        boolean problem = stale || held != null || lastFailed || unrecovered != null;
        return new StatusLine(area, problem, String.join("; ", parts));
    }
}
