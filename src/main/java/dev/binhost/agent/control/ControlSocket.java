package dev.binhost.agent.control;

import dev.binhost.agent.posix.Posix;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.UncheckedIOException;

/** Opens the control socket when the agent starts and removes it when the agent stops. */
@ApplicationScoped
public class ControlSocket {
    @Inject
    ControlConfig config;

    @Inject
    ControlActions actions;

    @Inject
    Posix posix;

    private volatile ControlServer server;

    void start(@Observes StartupEvent event) {
        if (!config.enabled()) {
            Log.info("Control socket disabled (binhost.control.enabled=false): no trigger from the CLI");
            return;
        }
        try {
            server = ControlServer.start(config.socket(), ControlServer.parseMode(config.socketMode()),
                    posix.geteuid(), actions);
        } catch (IOException e) {
            throw new UncheckedIOException("binhost.control.socket: cannot listen on " + config.socket() + ": "
                    + e.getMessage(), e);
        }
        Log.infof("Control socket listening on %s (mode %s)", config.socket(), config.socketMode());
    }

    void stop(@Observes ShutdownEvent event) {
        ControlServer s = server;
        if (s != null) {
            s.close();
        }
    }
}
