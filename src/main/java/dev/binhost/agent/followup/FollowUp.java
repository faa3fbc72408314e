package dev.binhost.agent.followup;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an update left for the admin, collected after the run from the system's records and Portage's own tools:
 * the history's and the notify command's {@code followUp} section, the status's follow-up area and the
 * {@code binhost_followup_pending} gauges. Nothing here is done by the agent except what a policy says
 * ({@code @preserved-rebuild}); config files are never merged by it.
 *
 * @param collectedAt ISO-8601 instant of the collection
 * @param afterRun    id of the run it followed; null when collected by {@code check}
 */
public record FollowUp(String collectedAt, String afterRun, Item configFiles, Item preservedLibs, Item news,
        Item glsa, Item restart, Item portage, Item elog, Item orphans) {

    /** The kinds, in the order they need attention; {@link #tag()} is the metric's {@code kind} tag. */
    public enum Kind {
        GLSA("glsa", "GLSA advisory affects this slave", "GLSA advisories affect this slave",
                "glsa-check -p affected"),
        PRESERVED_LIBS("preserved-libs", "preserved library still in use", "preserved libraries still in use",
                "emerge @preserved-rebuild"),
        RESTART("restart", "restart needed", "restarts needed", "restart them, or reboot for the kernel"),
        CONFIG_FILES("config-files", "config file waits for a merge", "config files wait for a merge",
                "dispatch-conf or etc-update"),
        NEWS("news", "unread news item", "unread news items", "eselect news read"),
        PORTAGE("portage", "Portage update pending", "Portage updates pending", "emerge --oneshot sys-apps/portage"),
        ELOG("elog", "warning or error from the run's packages", "warnings or errors from the run's packages",
                "read them before the next run"),
        ORPHANS("orphans", "package no longer needed", "packages no longer needed",
                "emerge --ask --depclean, after a look");

        private final String tag;
        private final String one;
        private final String many;
        private final String todo;

        Kind(String tag, String one, String many, String todo) {
            this.tag = tag;
            this.one = one;
            this.many = many;
            this.todo = todo;
        }

        public String tag() {
            return tag;
        }

        /** "2 config files wait for a merge (dispatch-conf or etc-update)". */
        public String phrase(int count) {
            return count + " " + (count == 1 ? one : many) + " (" + todo + ")";
        }
    }

    /** Every item by kind, in the order of {@link Kind}. */
    @JsonIgnore
    public Map<Kind, Item> items() {
        Map<Kind, Item> m = new LinkedHashMap<>();
        m.put(Kind.GLSA, glsa);
        m.put(Kind.PRESERVED_LIBS, preservedLibs);
        m.put(Kind.RESTART, restart);
        m.put(Kind.CONFIG_FILES, configFiles);
        m.put(Kind.NEWS, news);
        m.put(Kind.PORTAGE, portage);
        m.put(Kind.ELOG, elog);
        m.put(Kind.ORPHANS, orphans);
        m.replaceAll((k, v) -> v == null ? Item.off("not collected by this version") : v);
        return m;
    }

    /**
     * What needs the admin, most urgent first, one line each with what to run and the first items:
     * "1 config file waits for a merge (dispatch-conf or etc-update): /etc/._cfg0000_demo-daemon.conf".
     */
    @JsonIgnore
    public List<String> attention() {
        List<String> lines = new ArrayList<>();
        items().forEach((kind, item) -> {
            if (item.pending()) {
                List<String> first = item.items().subList(0, Math.min(3, item.items().size()));
                lines.add(kind.phrase(item.count()) + (first.isEmpty() ? "" : ": " + String.join(", ", first)
                        + (item.count() > first.size() ? ", …" : "")));
            }
        });
        return lines;
    }

    /** What could not be found out, one line each: "glsa: not-installed (glsa-check not found in PATH)". */
    @JsonIgnore
    public List<String> unknown() {
        List<String> lines = new ArrayList<>();
        items().forEach((kind, item) -> {
            if (item.status() == Item.Status.NOT_INSTALLED || item.status() == Item.Status.FAILED) {
                lines.add(kind.tag() + ": " + item.status().tag() + (item.detail() == null ? "" : " (" + item.detail() + ")"));
            }
        });
        return lines;
    }
}
