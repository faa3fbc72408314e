package dev.binhost.agent.mount;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.ConfigCheck;

import java.util.List;

/** Registers the mount manager's configuration with {@link ConfigCheck}. */
public class MountMappings implements ConfigCheck.Mappings {
    @Override
    public List<Class<? extends Checked>> mappings() {
        return List.of(MountConfig.class);
    }
}
