package dev.binhost.agent.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads the update runs' history (JSON lines, written by the update runner) without knowing its exact schema:
 * each line is any JSON object; a torn or foreign line is counted and skipped, never fatal.
 */
public final class History {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Field names the runner may use for the headline columns, tried in order. */
    private static final List<String> TIME = List.of("startedAt", "started", "start", "time", "at", "finishedAt");
    private static final List<String> OUTCOME = List.of("outcome", "result", "status");

    /** The newest {@code n} runs, oldest first, and how many lines could not be read. */
    public record Read(List<JsonNode> runs, int skipped) {
    }

    private History() {
    }

    public static Read parse(List<String> lines, int n) {
        List<JsonNode> runs = new ArrayList<>();
        int skipped = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode node = JSON.readTree(line);
                if (node != null && node.isObject()) {
                    runs.add(node);
                } else {
                    skipped++;
                }
            } catch (JsonProcessingException e) {
                skipped++;
            }
        }
        return new Read(List.copyOf(runs.subList(Math.max(0, runs.size() - n), runs.size())), skipped);
    }

    /** One run as a line: time, outcome, then the other plain fields as key=value. */
    public static String line(JsonNode run) {
        String time = first(run, TIME);
        String outcome = first(run, OUTCOME);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-24s %-10s", time.isEmpty() ? "?" : time, outcome.isEmpty() ? "?" : outcome));
        Iterator<Map.Entry<String, JsonNode>> fields = run.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (TIME.contains(f.getKey()) && f.getValue().asText().equals(time)
                    || OUTCOME.contains(f.getKey()) && f.getValue().asText().equals(outcome)) {
                continue;
            }
            if (f.getValue().isValueNode() && !f.getValue().isNull()) {
                sb.append(' ').append(f.getKey()).append('=').append(f.getValue().asText());
            } else if (f.getValue().isObject()) {
                // One level down, e.g. the plan's counts: plan.binaries=41 plan.compiled=2.
                f.getValue().fields().forEachRemaining(sub -> {
                    if (sub.getValue().isValueNode() && !sub.getValue().isNull()) {
                        sb.append(' ').append(f.getKey()).append('.').append(sub.getKey()).append('=')
                                .append(sub.getValue().asText());
                    }
                });
            } else if (f.getValue().isArray()) {
                sb.append(' ').append(f.getKey()).append("=[").append(f.getValue().size()).append(']');
            }
        }
        return sb.toString();
    }

    private static String first(JsonNode run, List<String> names) {
        for (String name : names) {
            JsonNode v = run.get(name);
            if (v != null && v.isValueNode() && !v.isNull()) {
                return v.asText();
            }
        }
        return "";
    }
}
