package dev.binhost.agent.config;

import dev.binhost.agent.control.ControlConfig;
import dev.binhost.agent.emerge.UpdateConfig;
import dev.binhost.agent.master.MasterConfig;
import dev.binhost.agent.mount.MountConfig;
import dev.binhost.agent.sync.SyncConfig;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.eclipse.microprofile.config.spi.ConfigSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The agent's mappings built in-process over given sources, for tests of {@link ConfigCheck#problems}. */
public final class AgentConfigs {
    private AgentConfigs() {
    }

    public static SmallRyeConfig of(Map<String, String> properties, ConfigSource... more) {
        List<ConfigSource> sources = new ArrayList<>(List.of(more));
        sources.add(new PropertiesConfigSource(properties, "test", 100));
        // As in the running agent (Quarkus does not validate unknown keys): KnownKeys is what refuses them.
        return new SmallRyeConfigBuilder().withValidateUnknown(false)
                .withMapping(AgentConfig.class).withMapping(SyncConfig.class).withMapping(MountConfig.class)
                .withMapping(MasterConfig.class).withMapping(UpdateConfig.class).withMapping(ControlConfig.class)
                .withMapping(dev.binhost.agent.followup.FollowUpConfig.class)
                .withMapping(dev.binhost.agent.binhost.PackagesConfig.class)
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withSources(sources.toArray(ConfigSource[]::new))
                .build();
    }
}
