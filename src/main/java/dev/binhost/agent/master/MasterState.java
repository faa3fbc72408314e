package dev.binhost.agent.master;

import java.time.Instant;
import java.util.List;

/**
 * What the agent believes about the master: {@code status} since {@code since}, and {@code reason} (why it
 * went UP or DOWN). The counters and last round show what the next rounds would need to change it.
 */
public record MasterState(
        Status status,
        Instant since,
        String reason,
        int failuresInARow,
        int successesInARow,
        Instant lastRoundAt,
        List<ProbeResult> lastRound) {

    public enum Status { UNKNOWN, UP, DOWN }

    public MasterState {
        lastRound = List.copyOf(lastRound);
    }

    public static MasterState initial(Instant now) {
        return new MasterState(Status.UNKNOWN, now, "not probed yet", 0, 0, null, List.of());
    }

    public boolean up() {
        return status == Status.UP;
    }
}
