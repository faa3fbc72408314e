package dev.binhost.agent.cli;

import java.time.Instant;

/**
 * One area of the status as one line of text, and whether it is a problem: problems are listed first so the
 * admin reads what is wrong before what is fine.
 */
record StatusLine(String area, boolean problem, String text) {

    /** Turns one status section into its line; throws {@link Fields.Unreadable} when the section lacks a key. */
    @FunctionalInterface
    interface Renderer {
        StatusLine render(String area, Fields section, Instant now);
    }
}
