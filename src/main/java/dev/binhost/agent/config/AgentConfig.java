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
}
