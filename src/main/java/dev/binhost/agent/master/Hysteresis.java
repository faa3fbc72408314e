package dev.binhost.agent.master;

import dev.binhost.agent.master.MasterState.Status;

import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Turns probe rounds into UP/DOWN. A round succeeds only when every probe answered. An UP master goes DOWN
 * after {@code downAfter} failed rounds in a row and a DOWN one comes UP after {@code upAfter} good rounds in a
 * row, so a flapping link does not make mounts come and go. From UNKNOWN (just started) the first round decides:
 * waiting would only delay a cold start.
 */
public final class Hysteresis {
    private final int downAfter;
    private final int upAfter;

    public Hysteresis(int downAfter, int upAfter) {
        if (downAfter < 1 || upAfter < 1) {
            throw new IllegalArgumentException("thresholds must be at least 1");
        }
        this.downAfter = downAfter;
        this.upAfter = upAfter;
    }

    public MasterState next(MasterState current, List<ProbeResult> round, Instant now) {
        boolean ok = !round.isEmpty() && round.stream().allMatch(ProbeResult::ok);
        int failures = ok ? 0 : current.failuresInARow() + 1;
        int successes = ok ? current.successesInARow() + 1 : 0;
        Status status = current.status();
        Status next = switch (status) {
            case UNKNOWN -> ok ? Status.UP : Status.DOWN;
            case UP -> failures >= downAfter ? Status.DOWN : Status.UP;
            case DOWN -> successes >= upAfter ? Status.UP : Status.DOWN;
        };
        if (next == status) {
            return new MasterState(status, current.since(), current.reason(), failures, successes, now, round);
        }
        String reason = next == Status.UP
                ? "all probes answered: " + describe(round)
                : (status == Status.UP ? failures + " failed probe rounds in a row: " : "")
                        + describe(round.stream().filter(r -> !r.ok()).toList());
        return new MasterState(next, now, reason, failures, successes, now, round);
    }

    static String describe(List<ProbeResult> results) {
        if (results.isEmpty()) {
            return "no probes configured";
        }
        return results.stream().map(r -> r.probe() + ": " + r.detail()).collect(Collectors.joining("; "));
    }
}
