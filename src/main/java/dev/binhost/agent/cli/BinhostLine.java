package dev.binhost.agent.cli;

import java.time.Instant;

/**
 * Where binaries come from. An NFS slave's line just says so (its mounts have their own line); an HTTP slave's
 * names the binhost, how old its index is and how many packages it offers, and is a problem when the index was
 * never fetched or the binrepos.conf entry is wrong.
 */
final class BinhostLine implements StatusLine.Renderer {
    @Override
    public StatusLine render(String area, Fields f, Instant now) {
        String transport = f.required("transport");
        if (!transport.equals("http")) {
            return new StatusLine(area, false, transport + " (the master's PKGDIR, see mounts)");
        }
        StringBuilder text = new StringBuilder("http ").append(f.required("url"));
        boolean problem = false;
        Fields index = f.section("index");
        Instant written = index == null ? null : index.instant("timestamp");
        if (written == null) {
            text.append(": index not fetched yet");
            problem = true;
        } else {
            text.append(": ").append(index.number("packages")).append(" packages, index written ")
                    .append(RelativeTime.ago(written, now));
            Instant checked = index.instant("checkedAt");
            if (checked != null) {
                text.append(", checked ").append(RelativeTime.ago(checked, now));
            }
        }
        Fields binrepos = f.section("binrepos");
        Boolean ok = binrepos == null ? null : binrepos.bool("ok");
        if (Boolean.FALSE.equals(ok)) {
            problem = true;
            text.append("; binrepos.conf: ").append(binrepos.text("detail"));
        }
        return new StatusLine(area, problem, text.toString());
    }
}
