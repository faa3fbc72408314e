package dev.binhost.agent.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The master's line: UP or DOWN and for how long, and why when it is not UP (a DOWN or not yet probed master
 * blocks every update run, so anything but UP is a problem).
 */
final class MasterLine implements StatusLine.Renderer {
    @Override
    public StatusLine render(String area, Fields f, Instant now) {
        String status = f.required("status");
        boolean up = status.equals("UP");
        StringBuilder text = new StringBuilder(status);
        Instant since = f.instant("since");
        if (since != null) {
            text.append(" for ").append(RelativeTime.span(since, now));
        }
        List<String> notes = new ArrayList<>();
        if (f.text("host") != null) {
            notes.add(f.text("host"));
        }
        Instant probed = f.instant("lastProbe");
        notes.add(probed == null ? "not probed yet" : "probed " + RelativeTime.ago(probed, now));
        text.append(" (").append(String.join(", ", notes)).append(')');
        String reason = f.text("reason");
        if (!up && reason != null) {
            text.append(": ").append(reason);
        }
        return new StatusLine(area, !up, text.toString());
    }
}
