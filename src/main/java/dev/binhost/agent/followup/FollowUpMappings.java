package dev.binhost.agent.followup;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.ConfigCheck;

import java.util.List;

/** Registers the follow-ups' configuration with {@link ConfigCheck}. */
public class FollowUpMappings implements ConfigCheck.Mappings {
    @Override
    public List<Class<? extends Checked>> mappings() {
        return List.of(FollowUpConfig.class);
    }
}
