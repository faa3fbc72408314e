package dev.binhost.agent.cli;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;

/**
 * Lenient typed reads of one status section as the JSON gave it. The agent's sections grow keys over time and an
 * older or newer agent may answer a newer or older CLI, so a missing key or a value of another type reads as
 * absent ({@code null}); only {@link #required} refuses, and the caller then shows the section raw.
 */
final class Fields {
    /** A section lacks what its line needs; the renderer falls back to the raw values. */
    static final class Unreadable extends RuntimeException {
        Unreadable(String message) {
            super(message);
        }
    }

    private final Map<?, ?> map;

    private Fields(Map<?, ?> map) {
        this.map = map;
    }

    static Fields of(Object section) {
        if (section instanceof Map<?, ?> m) {
            return new Fields(m);
        }
        throw new Unreadable("not an object: " + section);
    }

    Map<?, ?> raw() {
        return map;
    }

    boolean has(String key) {
        return map.containsKey(key);
    }

    /** A string, number or boolean as text; null when absent, null, blank or a nested value. */
    String text(String key) {
        Object v = map.get(key);
        if (v instanceof String s) {
            return s.isBlank() ? null : s;
        }
        return v instanceof Number || v instanceof Boolean ? String.valueOf(v) : null;
    }

    String required(String key) {
        String v = text(key);
        if (v == null) {
            throw new Unreadable("no " + key);
        }
        return v;
    }

    /** An ISO-8601 instant; null when absent or not one. */
    Instant instant(String key) {
        String v = text(key);
        if (v == null) {
            return null;
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** A boolean; null when absent or not a boolean. */
    Boolean bool(String key) {
        return map.get(key) instanceof Boolean b ? b : null;
    }

    /** A whole number; null when absent or not a number. */
    Long number(String key) {
        return map.get(key) instanceof Number n ? n.longValue() : null;
    }

    /** A list of texts; empty when absent or not a list (items that are not text are left out). */
    java.util.List<String> texts(String key) {
        return map.get(key) instanceof java.util.List<?> l
                ? l.stream().filter(String.class::isInstance).map(String.class::cast).toList() : java.util.List.of();
    }

    /** A nested section; null when absent or not an object. */
    Fields section(String key) {
        return map.get(key) instanceof Map<?, ?> m ? new Fields(m) : null;
    }
}
