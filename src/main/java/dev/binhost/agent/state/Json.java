package dev.binhost.agent.state;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The agent's one Jackson mapper (history, run marker, control protocol, Portage's JSON records): unknown fields
 * are ignored, so a file written by a newer agent still reads. Made on first use, not when a class that holds it
 * is loaded: Jackson's initialisation was most of what creating the update service cost the start-up thread;
 * now the first history read pays it, on the update loop's thread.
 */
public final class Json {
    private Json() {
    }

    public static ObjectMapper mapper() {
        return Holder.MAPPER;
    }

    private static final class Holder {
        static final ObjectMapper MAPPER = new ObjectMapper()
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    }
}
