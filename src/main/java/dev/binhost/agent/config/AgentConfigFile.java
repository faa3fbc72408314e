package dev.binhost.agent.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the admin's configuration lives: {@code $BINHOST_AGENT_CONFIG}, else
 * {@code /etc/binhost-agent/binhost-agent.properties}.
 */
public final class AgentConfigFile {
    public static final String ENV = "BINHOST_AGENT_CONFIG";
    public static final Path DEFAULT = Path.of("/etc/binhost-agent/binhost-agent.properties");
    /** Above application.properties (250), below environment variables (300) and -D properties (400). */
    public static final int ORDINAL = 260;

    private AgentConfigFile() {
    }

    /** The file named by the environment, or the default path. */
    public static Path location() {
        String named = System.getenv(ENV);
        return named == null || named.isBlank() ? DEFAULT : Path.of(named);
    }

    /** True when the admin named a file explicitly: then a missing file is an error, not a fallback. */
    public static boolean explicitlyNamed() {
        String named = System.getenv(ENV);
        return named != null && !named.isBlank();
    }

    /** The file to read, if there is one to read. */
    public static Optional<Path> readable() {
        Path path = location();
        return Files.isRegularFile(path) && Files.isReadable(path) ? Optional.of(path) : Optional.empty();
    }
}
