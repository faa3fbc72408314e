package dev.binhost.agent.process;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factory for the agent's own loops: daemon threads (a stuck probe or pull never keeps the JVM from
 * exiting) named {@code name-1}, {@code name-2}, … so a thread dump says which loop a thread serves.
 */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    public static ThreadFactory named(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
