package dev.binhost.agent.process;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** How the agent ends the programs it starts. */
@ConfigMapping(prefix = "binhost.process")
public interface ProcessRunnerConfig {
    /** Time between SIGTERM and SIGKILL once a command's deadline has passed. */
    @WithDefault("10s")
    Duration killGrace();

    /** How much of a command's output is kept in memory for reports; the rest is only in its log. */
    @WithDefault("65536")
    int tailBytes();
}
