package dev.binhost.agent.sync;

/** The master's tree, or the live tree, is not something the pull may apply; the message says what and why. */
public class PullRefused extends Exception {
    public PullRefused(String message) {
        super(message);
    }
}
