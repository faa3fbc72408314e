package dev.binhost.agent.cli;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The human form of {@code binhost-agent status}: a headline (version, pid, uptime), then one line per area with
 * times relative to now, what is wrong first. The JSON form is the status map itself; this is for reading at a
 * glance. Every section renders whatever it holds: a known one the CLI cannot read, or one it does not know,
 * shows its raw values instead of failing the command.
 */
public final class StatusText {
    /** The areas the CLI knows, in the order healthy lines are listed; other sections follow in map order. */
    private static final Map<String, StatusLine.Renderer> KNOWN = Map.of(
            "master", new MasterLine(),
            "mounts", new MountsLine(),
            "config", new ConfigLine(),
            "update", new UpdateLine(),
            "follow-up", new FollowUpLine(),
            "binhost", new BinhostLine());
    private static final List<String> ORDER = List.of("master", "binhost", "mounts", "config", "update", "follow-up");
    /** Problems are marked so they stand out even when every line is a problem. */
    static final String PROBLEM = "!";

    private StatusText() {
    }

    public static String render(Map<String, Object> status, Clock clock) {
        Instant now = clock.instant();
        List<StatusLine> lines = new ArrayList<>();
        for (Map.Entry<String, Object> section : status.entrySet()) {
            if (!section.getKey().equals("agent")) {
                lines.add(line(section.getKey(), section.getValue(), now));
            }
        }
        // stable: within problems and within healthy lines the known areas keep their order, then the rest
        lines.sort(Comparator.comparing((StatusLine l) -> !l.problem()).thenComparing(l -> rank(l.area())));
        int width = lines.stream().mapToInt(l -> l.area().length()).max().orElse(0);
        long problems = lines.stream().filter(StatusLine::problem).count();

        StringBuilder sb = new StringBuilder(headline(status.get("agent"), now));
        if (problems > 0) {
            sb.append(": ").append(problems).append(problems == 1 ? " problem" : " problems");
        }
        sb.append('\n');
        for (StatusLine l : lines) {
            sb.append(l.problem() ? PROBLEM : " ").append(' ')
                    .append(String.format("%-" + width + "s", l.area())).append("  ").append(l.text()).append('\n');
        }
        return sb.toString();
    }

    static StatusLine line(String area, Object section, Instant now) {
        StatusLine.Renderer renderer = KNOWN.getOrDefault(area, new RawLine());
        try {
            return renderer.render(area, Fields.of(section), now);
        } catch (RuntimeException unreadable) {
            // Fields.Unreadable, or a shape no renderer expected: never fail the command over one section
            return RawLine.of(area, section);
        }
    }

    private static int rank(String area) {
        int i = ORDER.indexOf(area);
        return i < 0 ? ORDER.size() : i;
    }

    static String headline(Object agentSection, Instant now) {
        if (!(agentSection instanceof Map<?, ?>)) {
            return "binhost-agent (the agent sent no agent section)";
        }
        Fields agent = Fields.of(agentSection);
        StringBuilder s = new StringBuilder("binhost-agent ")
                .append(agent.text("version") == null ? "(version unknown)" : agent.text("version"));
        if (agent.text("pid") != null) {
            s.append(", pid ").append(agent.text("pid"));
        }
        Long uptime = agent.number("uptimeSeconds");
        Instant started = agent.instant("startedAt");
        if (uptime != null) {
            s.append(", up ").append(RelativeTime.span(Duration.ofSeconds(uptime)));
        } else if (started != null) {
            s.append(", up ").append(RelativeTime.span(started, now));
        }
        return s.toString();
    }
}
