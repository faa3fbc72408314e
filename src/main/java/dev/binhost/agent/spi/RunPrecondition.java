package dev.binhost.agent.spi;

/**
 * Something an update run needs before it may start (master UP, mounts healthy, …). Features contribute CDI
 * beans; the update run checks all of them and reports each blocking one by {@link #name()}.
 * Implementations must answer from memory or a bounded child process, never by touching a mount directly.
 */
public interface RunPrecondition {
    /** Stable, short: "master-up", "mounts-healthy", "config-fresh". */
    String name();

    Verdict check();
}
