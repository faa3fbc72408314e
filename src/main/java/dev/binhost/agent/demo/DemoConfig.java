package dev.binhost.agent.demo;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;

/** The README's demo: a built-in local master so a newcomer sees the agent work without a real master. */
@ConfigMapping(prefix = "binhost.demo")
public interface DemoConfig {
    /** Start an rsync daemon on loopback serving an example master /etc/portage. Never on in production. */
    @WithDefault("false")
    boolean localMaster();

    /** Scratch directory holding the demo master's tree and the slave's paths. */
    @WithDefault("target/demo")
    Path dir();
}
