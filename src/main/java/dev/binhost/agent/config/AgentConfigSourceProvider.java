package dev.binhost.agent.config;

import io.smallrye.config.PropertiesConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSourceProvider;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** Adds the admin's properties file (see {@link AgentConfigFile}) to the agent's configuration. */
public class AgentConfigSourceProvider implements ConfigSourceProvider {
    @Override
    public Iterable<ConfigSource> getConfigSources(ClassLoader classLoader) {
        return AgentConfigFile.readable().<Iterable<ConfigSource>>map(path -> {
            try {
                return List.of(new PropertiesConfigSource(path.toUri().toURL(), AgentConfigFile.ORDINAL));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
            }
        }).orElse(List.of());
    }
}
