package dev.binhost.agent.sync;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.ConfigCheck;

import java.util.List;

/** Registers the config pull's configuration with {@link ConfigCheck}. */
public class SyncMappings implements ConfigCheck.Mappings {
    @Override
    public List<Class<? extends Checked>> mappings() {
        return List.of(SyncConfig.class);
    }
}
