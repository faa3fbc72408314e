package dev.binhost.agent.master;

import java.time.Duration;

/** One probe of one master service: did it answer, how fast, and what it said or why not. */
public record ProbeResult(String probe, boolean ok, Duration took, String detail) {
    public static ProbeResult ok(String probe, Duration took, String detail) {
        return new ProbeResult(probe, true, took, detail);
    }

    public static ProbeResult failed(String probe, Duration took, String why) {
        return new ProbeResult(probe, false, took, why);
    }
}
