package dev.binhost.agent.control;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.OwnedDir;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The local control socket: where it lives and who may open it. */
@ConfigMapping(prefix = "binhost.control")
public interface ControlConfig extends Checked {
    /** Unix domain socket the CLI talks to; its directory is created (0755, root) if missing. */
    @WithDefault("/run/binhost-agent/control.sock")
    Path socket();

    /** False turns the socket off (the agent then has no trigger; status stays on HTTP GET /status). */
    @WithDefault("true")
    boolean enabled();

    /**
     * Octal permissions of the socket. 0600 keeps everyone but root out; 0666 lets users read status through it
     * while actions still need root, because the agent checks each caller's uid (SO_PEERCRED).
     */
    @WithDefault("0600")
    String socketMode();

    @Override
    default List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (!socket().isAbsolute()) {
            problems.add("binhost.control.socket: must be an absolute path, was " + socket());
        }
        if (ControlServer.parseMode(socketMode()) < 0) {
            problems.add("binhost.control.socket-mode: must be octal permissions such as 0600, was '"
                    + socketMode() + "'");
        }
        if (enabled() && socket().isAbsolute()) {
            ControlServer.socketProblem(socket(), ControlServer.euid())
                    .ifPresent(why -> problems.add("binhost.control.socket: " + why));
        }
        return problems;
    }

    @Override
    default List<OwnedDir.Use> paths(AgentConfig agent) {
        Path dir = socket().toAbsolutePath().getParent();
        return enabled() && dir != null ? List.of(OwnedDir.Use.of("binhost.control.socket", dir, OwnedDir.Kind.WORK))
                : List.of();
    }
}
