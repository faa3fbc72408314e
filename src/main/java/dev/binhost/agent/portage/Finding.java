package dev.binhost.agent.portage;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One result of a preflight of this slave's Portage setup: a PROBLEM makes {@code binhost-agent check} exit 1,
 * ADVICE does not.
 * {@code change} always says what to do about it.
 */
@RegisterForReflection
public record Finding(Level level, String topic, String what, String change) {
    public enum Level { PROBLEM, ADVICE }

    public static Finding problem(String topic, String what, String change) {
        return new Finding(Level.PROBLEM, topic, what, change);
    }

    public static Finding advice(String topic, String what, String change) {
        return new Finding(Level.ADVICE, topic, what, change);
    }
}
