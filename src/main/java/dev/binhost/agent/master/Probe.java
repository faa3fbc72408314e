package dev.binhost.agent.master;

/** Checks that one service of the master answers. Never throws, never blocks past its own timeouts. */
public interface Probe {
    /** Short, stable name used as a metric tag: rsync, nfs, http. */
    String name();

    ProbeResult probe();
}
