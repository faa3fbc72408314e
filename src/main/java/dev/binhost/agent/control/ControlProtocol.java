package dev.binhost.agent.control;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.annotations.RegisterForReflection;

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
    }
}
