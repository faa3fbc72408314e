package dev.binhost.agent.cli;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.config.AgentConfigFile;
import dev.binhost.agent.config.AgentConfigSourceProvider;
import dev.binhost.agent.control.ControlConfig;
import dev.binhost.agent.emerge.UpdateConfig;
import dev.binhost.agent.followup.FollowUpConfig;
import dev.binhost.agent.followup.FollowUps;
import dev.binhost.agent.process.ProcessRunner;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The keys the CLI needs, resolved without starting Quarkus but exactly as the agent resolves them: the agent's
 * own mappings' defaults ({@link ControlConfig}, {@link AgentConfig}), {@code application.properties} with the
 * active profile ({@code -Dquarkus.profile} or {@code QUARKUS_PROFILE}; the demo's socket is a {@code %demo} key),
 * the admin's file ({@link AgentConfigFile}), environment variables ({@code BINHOST_CONTROL_SOCKET}) and -D
 * properties, in the same order. Only the preflight's keys ({@code binhost.check.*}) are the CLI's own.
 */
public final class CliConfig {
    /** The configuration cannot be read; the CLI exits 78 (EX_CONFIG). */
    public static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    /** Keys only the CLI reads (the agent never runs the preflight), with their defaults. */
    static final Map<String, String> DEFAULTS = Map.of(
            "binhost.check.portage-dir", "/etc/portage",
            "binhost.check.cpuinfo", "/proc/cpuinfo",
            "binhost.check.mountinfo", "/proc/self/mountinfo",
            "binhost.check.tools", "rsync,mount,umount,mount.nfs");

    /** The agent's keys the CLI reads; their values come from the agent's own mappings and sources. */
    static final List<String> AGENT_KEYS = List.of("binhost.control.socket", "binhost.agent.state-dir",
            "quarkus.http.host", "quarkus.http.port");

    private final Properties values;

    private CliConfig(Properties values) {
        this.values = values;
    }

    /** Resolves the keys as the agent would (an explicitly named file must exist and be readable). */
    public static CliConfig load() throws Invalid {
        Path file = AgentConfigFile.location();
        if (AgentConfigFile.explicitlyNamed() && !Files.isRegularFile(file)) {
            throw new Invalid(AgentConfigFile.ENV + " names " + file + ", which does not exist");
        }
        if (Files.isRegularFile(file) && !Files.isReadable(file)) {
            throw new Invalid("cannot read " + file + " (permission denied)");
        }
        SmallRyeConfig config;
        try {
            config = agentConfig();
        } catch (RuntimeException e) {
            throw new Invalid("cannot read the configuration: " + e.getMessage());
        }
        Properties p = new Properties();
        p.putAll(DEFAULTS);
        for (String key : config.getPropertyNames()) {
            if (key.startsWith("binhost.check.") || key.startsWith("binhost.followup.")
                    || key.startsWith("binhost.update.")) {
                config.getOptionalValue(key, String.class).ifPresent(v -> p.setProperty(key, v));
            }
        }
        for (String key : AGENT_KEYS) {
            config.getOptionalValue(key, String.class).ifPresent(v -> p.setProperty(key, v));
        }
        return new CliConfig(p);
    }

    /** The agent's configuration sources and the defaults of the mappings the CLI shares with it. */
    static SmallRyeConfig agentConfig() {
        String profile = System.getProperty("quarkus.profile", System.getenv().getOrDefault("QUARKUS_PROFILE", "prod"));
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder().addDefaultInterceptors().addSystemSources()
                .withProfile(profile).withSources(new AgentConfigSourceProvider())
                .withMapping(ControlConfig.class).withMapping(AgentConfig.class).withSources(applicationProperties());
        return builder.build();
    }

    /** The agent's defaults plus {@code overrides} (tests). */
    public static CliConfig of(Map<String, String> overrides) {
        Properties p = new Properties();
        p.putAll(DEFAULTS);
        p.putAll(defaultsOfAgentKeys());
        p.putAll(overrides);
        return new CliConfig(p);
    }

    /** What the agent's mappings and application.properties give the agent's keys, with nothing else set. */
    static Map<String, String> defaultsOfAgentKeys() {
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDefaultInterceptors().withProfile("prod")
                .withMapping(ControlConfig.class).withMapping(AgentConfig.class)
                .withSources(applicationProperties()).build();
        Map<String, String> m = new java.util.HashMap<>();
        for (String key : AGENT_KEYS) {
            config.getOptionalValue(key, String.class).ifPresent(v -> m.put(key, v));
        }
        return m;
    }

    private static PropertiesConfigSource applicationProperties() {
        try {
            return new PropertiesConfigSource(CliConfig.class.getResource("/application.properties"), 250);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What {@code check} collects after the preflight, configured as the agent is ({@code binhost.followup.*},
     * and the update's eroot, make.conf and emerge command), with the mappings' own defaults.
     */
    public FollowUps followUps(ProcessRunner runner) throws Invalid {
        Map<String, String> m = new java.util.HashMap<>();
        values.stringPropertyNames().stream().filter(k -> k.startsWith("binhost.followup.") || k.startsWith("binhost.update."))
                .forEach(k -> m.put(k, values.getProperty(k)));
        try {
            SmallRyeConfig c = new SmallRyeConfigBuilder().withValidateUnknown(false)
                    .withMapping(FollowUpConfig.class).withMapping(UpdateConfig.class)
                    .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                    .withSources(new PropertiesConfigSource(m, "cli", 100)).build();
            UpdateConfig update = c.getConfigMapping(UpdateConfig.class);
            return new FollowUps(c.getConfigMapping(FollowUpConfig.class), update.eroot(), update.makeConf(),
                    update.emergeCommand(), runner, java.time.Clock.systemUTC());
        } catch (RuntimeException e) {
            throw new Invalid("binhost.followup/binhost.update: " + e.getMessage());
        }
    }

    /** {@code binhost.packages.*} as the agent reads them, for check's trust findings. */
    public dev.binhost.agent.binhost.PackagesConfig packages() throws Invalid {
        Map<String, String> m = new java.util.HashMap<>();
        values.stringPropertyNames().stream().filter(k -> k.startsWith("binhost.packages."))
                .forEach(k -> m.put(k, values.getProperty(k)));
        try {
            return new SmallRyeConfigBuilder().withValidateUnknown(false)
                    .withMapping(dev.binhost.agent.binhost.PackagesConfig.class)
                    .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                    .withSources(new PropertiesConfigSource(m, "cli", 100)).build()
                    .getConfigMapping(dev.binhost.agent.binhost.PackagesConfig.class);
        } catch (RuntimeException e) {
            throw new Invalid("binhost.packages: " + e.getMessage());
        }
    }

    public String get(String key) {
        return values.getProperty(key, "").strip();
    }

    public Path path(String key) {
        return Path.of(get(key));
    }

    public int port(String key) throws Invalid {
        try {
            return Integer.parseInt(get(key));
        } catch (NumberFormatException e) {
            throw new Invalid(key + ": not a port number: '" + get(key) + "'");
        }
    }
}
