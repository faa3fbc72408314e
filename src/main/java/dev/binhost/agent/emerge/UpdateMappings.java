package dev.binhost.agent.emerge;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.ConfigCheck;

import java.util.List;

/** Registers the update runs' configuration with {@link ConfigCheck}. */
public class UpdateMappings implements ConfigCheck.Mappings {
    @Override
    public List<Class<? extends Checked>> mappings() {
        return List.of(UpdateConfig.class);
    }
}
