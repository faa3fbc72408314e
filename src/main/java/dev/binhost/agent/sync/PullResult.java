package dev.binhost.agent.sync;

import dev.binhost.agent.process.CommandResult;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** What one config pull did: its outcome, the files it changed, and why when it did not apply. */
public record PullResult(Outcome outcome, Instant at, Duration took, Changes changes, String message,
        Optional<CommandResult> treeSync) {

    /** How a pull ended; the metric tag {@code outcome} uses the lower-case name. */
    public enum Outcome {
        /** The live tree now matches the master. */
        APPLIED,
        /** The live tree already matched the master. */
        UNCHANGED,
        /** rsync failed (connect refused, module missing, link lost); the live tree is untouched. */
        FAILED,
        /** rsync passed the deadline and was killed; the live tree is untouched. */
        TIMED_OUT,
        /** The master's tree (or the live tree) failed a check; the live tree is untouched. */
        REFUSED;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    public boolean succeeded() {
        return outcome == Outcome.APPLIED || outcome == Outcome.UNCHANGED;
    }

    /** The outcome's tag and the message, as the admin reads it: "refused: the master's file …". */
    public String describe() {
        return outcome.tag() + ": " + message;
    }

    PullResult withTreeSync(CommandResult result) {
        return new PullResult(outcome, at, took, changes, message, Optional.of(result));
    }
}
