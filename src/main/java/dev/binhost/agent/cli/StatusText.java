package dev.binhost.agent.cli;

import java.util.List;
import java.util.Map;

/** The human form of the status: a headline for the agent, then one block per section with flattened keys. */
public final class StatusText {
    private StatusText() {
    }

    public static String render(Map<String, Object> status) {
        StringBuilder sb = new StringBuilder();
        if (status.get("agent") instanceof Map<?, ?> agent) {
            sb.append("binhost-agent ").append(agent.get("version")).append(", pid ").append(agent.get("pid"))
                    .append(", up ").append(uptime(agent.get("uptimeSeconds"))).append('\n');
        }
        for (Map.Entry<String, Object> section : status.entrySet()) {
            if (section.getKey().equals("agent")) {
                continue;
            }
            sb.append('\n').append(section.getKey()).append('\n');
            flatten(sb, "", section.getValue());
        }
        return sb.toString();
    }

    private static void flatten(StringBuilder sb, String prefix, Object value) {
        if (value instanceof Map<?, ?> map) {
            if (map.isEmpty() && !prefix.isEmpty()) {
                row(sb, prefix, "(none)");
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                flatten(sb, prefix.isEmpty() ? String.valueOf(e.getKey()) : prefix + "." + e.getKey(), e.getValue());
            }
        } else if (value instanceof List<?> list) {
            if (list.isEmpty()) {
                row(sb, prefix, "(none)");
            }
            for (int i = 0; i < list.size(); i++) {
                flatten(sb, prefix + "[" + i + "]", list.get(i));
            }
        } else {
            row(sb, prefix.isEmpty() ? "value" : prefix, value == null ? "-" : String.valueOf(value));
        }
    }

    private static void row(StringBuilder sb, String key, String value) {
        sb.append(String.format("  %-28s %s%n", key, value));
    }

    static String uptime(Object seconds) {
        long s = seconds instanceof Number n ? n.longValue() : 0;
        if (s >= 86400) {
            return String.format("%dd %dh", s / 86400, s % 86400 / 3600);
        }
        if (s >= 3600) {
            return String.format("%dh %dm", s / 3600, s % 3600 / 60);
        }
        return String.format("%dm %ds", s / 60, s % 60);
    }
}
