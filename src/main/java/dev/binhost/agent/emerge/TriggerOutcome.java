package dev.binhost.agent.emerge;

/** The answer to a request for a run: queued, or why nothing more was queued. The control API passes it on. */
public record TriggerOutcome(Result result, String message) {
    public enum Result { QUEUED, ALREADY_QUEUED, ALREADY_RUNNING, REFUSED }
}
