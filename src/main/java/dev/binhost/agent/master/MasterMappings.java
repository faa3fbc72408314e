package dev.binhost.agent.master;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.ConfigCheck;

import java.util.List;

/** Registers the master watch's configuration with {@link ConfigCheck}. */
public class MasterMappings implements ConfigCheck.Mappings {
    @Override
    public List<Class<? extends Checked>> mappings() {
        return List.of(MasterConfig.class);
    }
}
