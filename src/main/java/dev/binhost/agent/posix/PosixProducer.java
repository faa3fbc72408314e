package dev.binhost.agent.posix;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The agent's {@link Posix}: the binding {@link Posix#system()} picks for this process. */
public class PosixProducer {
    @Produces
    @Singleton
    Posix posix() {
        return Posix.system();
    }
}
