package dev.binhost.agent.binhost;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.ConfigCheck;

import java.util.List;

/** Registers the binary packages' configuration with {@link ConfigCheck}. */
public class PackagesMappings implements ConfigCheck.Mappings {
    @Override
    public List<Class<? extends Checked>> mappings() {
        return List.of(PackagesConfig.class);
    }
}
