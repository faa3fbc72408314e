package dev.binhost.agent.config;

import java.util.List;

/**
 * A configuration mapping that knows which of its values make no sense together or alone. Each problem is
 * one line that starts with the full key, e.g. {@code "binhost.master.probe-interval: must be positive, was -5s"}.
 */
public interface Checked {
    List<String> problems();

    /** The paths this feature reads, writes or deletes in, for the start-up check that none overlaps another. */
    default List<OwnedDir.Use> paths(AgentConfig agent) {
        return List.of();
    }
}
