package dev.binhost.agent.control;

import dev.binhost.agent.emerge.TriggerOutcome;
import dev.binhost.agent.emerge.UpdateService;
import dev.binhost.agent.spi.Verdict;
import dev.binhost.agent.sync.ConfigSync;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** What the control socket can do: status for any peer that can connect, actions for privileged peers only. */
@ApplicationScoped
public class ControlActions implements ControlServer.Handler {
    @Inject
    StatusReport status;

    @Inject
    UpdateService updates;

    @Inject
    ConfigSync configSync;

    @Override
    public ControlProtocol.Response handle(ControlProtocol.Request request, ControlServer.Peer peer) {
        String action = request.action();
        switch (action) {
            case ControlProtocol.PING:
                return new ControlProtocol.Response(true, action, null, null, "pong", null);
            case ControlProtocol.STATUS:
                return new ControlProtocol.Response(true, action, null, null, null, status.snapshot());
            case ControlProtocol.TRIGGER, ControlProtocol.PULL_CONFIG, ControlProtocol.ROLLBACK_CONFIG:
                if (!peer.privileged()) {
                    Log.warnf("refused %s from user %s: not root", action, peer.user());
                    return ControlProtocol.Response.failed(action, "denied",
                            action + " needs root; user " + peer.user() + " may only read status");
                }
                return action.equals(ControlProtocol.TRIGGER) ? trigger(peer) : config(action, peer);
            default:
                return ControlProtocol.Response.failed(action, "unknown-action", "unknown action '" + action
                        + "'; known: status, trigger, pull-config, rollback-config, ping");
        }
    }

    /** Runs on this connection's worker and answers when done: a pull is bounded by the sync's deadlines. */
    private ControlProtocol.Response config(String action, ControlServer.Peer peer) {
        String by = "control socket (user " + peer.user() + ")";
        Verdict v = action.equals(ControlProtocol.PULL_CONFIG) ? configSync.pullConfig(by)
                : configSync.rollbackConfig(by);
        return new ControlProtocol.Response(v.ok(), action, null, v.ok() ? "DONE" : "FAILED", v.detail(), null);
    }

    private ControlProtocol.Response trigger(ControlServer.Peer peer) {
        TriggerOutcome outcome = updates.trigger("control socket (user " + peer.user() + ")");
        Log.infof("trigger by %s: %s %s", peer.user(), outcome.result(), outcome.message());
        boolean ok = outcome.result() != TriggerOutcome.Result.REFUSED;
        return new ControlProtocol.Response(ok, ControlProtocol.TRIGGER, null, outcome.result().name(),
                outcome.message(), null);
    }
}
