package dev.binhost.agent.control;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.ConfigCheck;

import java.util.List;

/** Registers the control socket's configuration with {@link ConfigCheck}. */
public class ControlMappings implements ConfigCheck.Mappings {
    @Override
    public List<Class<? extends Checked>> mappings() {
        return List.of(ControlConfig.class);
    }
}
