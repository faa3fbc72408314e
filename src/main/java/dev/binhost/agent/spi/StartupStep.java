package dev.binhost.agent.spi;

/**
 * Something the agent attempts once after start (the first master probe, the first config pull). The agent is
 * started (the startup health check is UP) when every step's first attempt has finished, whatever its outcome.
 */
public interface StartupStep {
    /** Stable, short: "first-master-probe", "first-config-pull"; the startup check's data key. */
    String name();

    /** ok once the first attempt has finished, with its outcome; otherwise what it waits for. */
    Verdict attempted();
}
