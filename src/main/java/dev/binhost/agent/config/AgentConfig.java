package dev.binhost.agent.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;

/** Where the agent keeps its own state and logs. */
@ConfigMapping(prefix = "binhost.agent")
public interface AgentConfig {
    /** Run history, locks, the last-run marker. */
    @WithDefault("/var/lib/binhost-agent")
    Path stateDir();

    /** Per-run emerge logs and command logs. */
    @WithDefault("/var/log/binhost-agent")
    Path logDir();

    /**
     * The /proc the agent reads for running emerge processes (its own and an admin's) and the load average:
     * one key for the update run's "no-other-emerge" check, the mount guard and the pull's wait. Tests point it
     * at a private procfs or a tree of their own, so nothing else on the machine changes their result.
     */
    @WithDefault("/proc")
    Path procDir();
}
