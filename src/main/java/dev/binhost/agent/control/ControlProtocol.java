package dev.binhost.agent.control;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.annotations.RegisterForReflection;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control socket's wire format: the client writes one JSON object on one line, the agent answers with one
 * JSON object on one line and closes. Kept this small so a shell ({@code socat}) can speak it too.
 */
public final class ControlProtocol {
    /** Longest request line the agent reads; anything longer is refused unread. */
    public static final int MAX_REQUEST = 4096;

    public static final String STATUS = "status";
    public static final String TRIGGER = "trigger";
    public static final String PING = "ping";
    public static final String PULL_CONFIG = "pull-config";
    public static final String ROLLBACK_CONFIG = "rollback-config";

    private ControlProtocol() {
    }

    /**
     * The agent's mapper for the socket and {@code GET /status}, made on first use: Jackson's initialisation is
     * then paid by the first request, not by start-up.
     */
    public static ObjectMapper shared() {
        return dev.binhost.agent.state.Json.mapper();
    }

    /** A plain mapper: the CLI uses it before (and without) Quarkus. */
    public static ObjectMapper mapper() {
        return new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                .setSerializationInclusion(JsonInclude.Include.ALWAYS);
    }

    /** What the client asks; {@code requestedBy} is informational (the agent trusts only the peer's uid). */
    @RegisterForReflection
    public record Request(String action, String requestedBy) {
    }

    /**
     * The agent's answer. {@code error} is null on success, else one of "denied", "bad-request",
     * "unknown-action", "unavailable"; {@code result} is the trigger's outcome (QUEUED, ALREADY_RUNNING, …) or,
     * for the config actions, DONE or FAILED.
     */
    @RegisterForReflection
    public record Response(boolean ok, String action, String error, String result, String message,
            Map<String, Object> status) {

        static Response failed(String action, String error, String message) {
            return new Response(false, action, error, null, message, null);
        }

        /** The same answer with every string made {@link #printable}: what the CLI shows a terminal. */
        @SuppressWarnings("unchecked")
        public Response printable() {
            return new Response(ok, ControlProtocol.printable(action), ControlProtocol.printable(error),
                    ControlProtocol.printable(result), ControlProtocol.printable(message),
                    (Map<String, Object>) printableValue(status));
        }
    }

    /**
     * Escapes what a terminal would obey or hide (C0 and C1 controls, DEL, line and bidi overrides) as
     * backslash-x and backslash-u hex codes, so an answer cannot move the cursor, recolour, or forge extra lines.
     */
    public static String printable(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else if ((c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e)
                    || (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** {@link #printable} over a parsed JSON value: strings, keys, lists and maps; numbers and booleans stay. */
    public static Object printableValue(Object value) {
        if (value instanceof String s) {
            return printable(s);
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(printable(String.valueOf(k)), printableValue(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(printableValue(v)));
            return out;
        }
        return value;
    }
}
