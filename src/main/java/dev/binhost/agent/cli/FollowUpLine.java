package dev.binhost.agent.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What the last update left for the admin, on one line: a problem when anything needs doing (a GLSA, preserved
 * libraries, a restart, config files, news, …), each with what to run; what could not be found out follows.
 */
final class FollowUpLine implements StatusLine.Renderer {
    @Override
    public StatusLine render(String area, Fields f, Instant now) {
        if (!f.has("collected")) {
            throw new Fields.Unreadable("no collected");
        }
        if (!Boolean.TRUE.equals(f.bool("collected"))) {
            return new StatusLine(area, false, "nothing collected yet (after the first update run)");
        }
        List<String> attention = f.texts("attention");
        List<String> unknown = f.texts("unknown");
        Instant at = f.instant("collectedAt");
        List<String> parts = new ArrayList<>(attention);
        if (attention.isEmpty()) {
            parts.add("nothing needs you");
        }
        String tail = " (after run " + f.text("afterRun") + (at == null ? "" : ", " + RelativeTime.ago(at, now)) + ")";
        String text = String.join("; ", parts) + tail
                + (unknown.isEmpty() ? "" : "; not known: " + String.join(", ", unknown));
        return new StatusLine(area, !attention.isEmpty(), text);
    }
}
