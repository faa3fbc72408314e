package dev.binhost.agent.control;

import dev.binhost.agent.spi.UpdateTrigger;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/** What the control socket can do: status for any peer that can connect, actions for privileged peers only. */
@ApplicationScoped
public class ControlActions implements ControlServer.Handler {
    @Inject
    StatusReport status;

    @Inject
    Instance<UpdateTrigger> triggers;

    @Override
    public ControlProtocol.Response handle(ControlProtocol.Request request, ControlServer.Peer peer) {
        String action = request.action();
        switch (action) {
            case ControlProtocol.PING:
                return new ControlProtocol.Response(true, action, null, null, "pong", null);
            case ControlProtocol.STATUS:
                return new ControlProtocol.Response(true, action, null, null, null, status.snapshot());
            case ControlProtocol.TRIGGER:
                if (!peer.privileged()) {
                    Log.warnf("refused trigger from user %s: not root", peer.user());
                    return ControlProtocol.Response.failed(action, "denied",
                            "trigger needs root; user " + peer.user() + " may only read status");
                }
                return trigger(peer);
            default:
                return ControlProtocol.Response.failed(action, "unknown-action",
                        "unknown action '" + action + "'; known: status, trigger, ping");
        }
    }

    private ControlProtocol.Response trigger(ControlServer.Peer peer) {
        if (!triggers.isResolvable()) {
            return new ControlProtocol.Response(false, ControlProtocol.TRIGGER, null,
                    UpdateTrigger.Result.REFUSED.name(), "this agent has no update runner, so nothing can run", null);
        }
        UpdateTrigger.Outcome outcome = triggers.get().trigger("control socket (user " + peer.user() + ")");
        Log.infof("trigger by %s: %s %s", peer.user(), outcome.result(), outcome.message());
        boolean ok = outcome.result() != UpdateTrigger.Result.REFUSED;
        return new ControlProtocol.Response(ok, ControlProtocol.TRIGGER, null, outcome.result().name(),
                outcome.message(), null);
    }
}
