package dev.binhost.agent.spi;

/** Asks for an update run now (implemented by the update runs; called by the control API). */
public interface UpdateTrigger {
    enum Result { QUEUED, ALREADY_QUEUED, ALREADY_RUNNING, REFUSED }

    record Outcome(Result result, String message) {
    }

    Outcome trigger(String requestedBy);
}
