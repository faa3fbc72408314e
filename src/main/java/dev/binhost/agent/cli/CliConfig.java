package dev.binhost.agent.cli;

import dev.binhost.agent.config.AgentConfigFile;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The few keys the CLI needs, read without starting Quarkus: built-in defaults, then the admin's properties
 * file ({@link AgentConfigFile}), then -D system properties, the same precedence the agent uses.
 */
public final class CliConfig {
    /** The configuration cannot be read; the CLI exits 78 (EX_CONFIG). */
    public static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    static final Map<String, String> DEFAULTS = Map.of(
            "binhost.control.socket", "/run/binhost-agent/control.sock",
            "binhost.agent.state-dir", "/var/lib/binhost-agent",
            "quarkus.http.host", "127.0.0.1",
            "quarkus.http.port", "9873",
            "binhost.check.portage-dir", "/etc/portage",
            "binhost.check.cpuinfo", "/proc/cpuinfo",
            "binhost.check.mountinfo", "/proc/self/mountinfo",
            "binhost.check.tools", "rsync,mount,umount,mount.nfs");

    private final Properties values;

    private CliConfig(Properties values) {
        this.values = values;
    }

    /** Reads the admin's file (an explicitly named file must exist) and applies -D overrides. */
    public static CliConfig load() throws Invalid {
        Properties p = new Properties();
        p.putAll(DEFAULTS);
        Path file = AgentConfigFile.location();
        if (AgentConfigFile.explicitlyNamed() && !Files.isRegularFile(file)) {
            throw new Invalid(AgentConfigFile.ENV + " names " + file + ", which does not exist");
        }
        if (Files.isRegularFile(file)) {
            if (!Files.isReadable(file)) {
                throw new Invalid("cannot read " + file + " (permission denied)");
            }
            Properties admin = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                admin.load(r);
            } catch (IOException | IllegalArgumentException e) {
                throw new Invalid("cannot read " + file + ": " + e.getMessage());
            }
            p.putAll(admin);
        }
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("binhost.") || key.startsWith("quarkus.http.")) {
                p.setProperty(key, System.getProperty(key));
            }
        }
        return new CliConfig(p);
    }

    public static CliConfig of(Map<String, String> overrides) {
        Properties p = new Properties();
        p.putAll(DEFAULTS);
        p.putAll(overrides);
        return new CliConfig(p);
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
