package dev.binhost.agent.followup;

import java.time.Instant;
import java.util.Map;

/**
 * Where Portage's elog stood when a run began: the summary file's size and each per-package file's modification
 * time, so the run's messages are the files written or rewritten since and the summary lines appended since.
 * No clock is compared: runs that follow each other within a second (Portage first, then the rest) keep theirs apart.
 */
public record ElogMark(long summarySize, Map<String, Instant> files) {
    public ElogMark {
        files = Map.copyOf(files);
    }
}
