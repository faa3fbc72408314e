package dev.binhost.agent.master;

import dev.binhost.agent.master.MasterState.Status;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HysteresisTest {
    private final Hysteresis hysteresis = new Hysteresis(3, 2);
    private Instant now = Instant.parse("2026-11-24T00:00:00Z");

    private static final List<ProbeResult> GOOD = List.of(ProbeResult.ok("rsync", Duration.ofMillis(3), "@RSYNCD: 31.0"),
            ProbeResult.ok("nfs", Duration.ofMillis(2), "NFSv4 answers RPC NULL"));
    private static final List<ProbeResult> BAD = List.of(ProbeResult.ok("rsync", Duration.ofMillis(3), "@RSYNCD: 31.0"),
            ProbeResult.failed("nfs", Duration.ofSeconds(3), "connect timed out at master:2049"));

    private MasterState apply(MasterState s, List<ProbeResult> round) {
        now = now.plusSeconds(30);
        return hysteresis.next(s, round, now);
    }

    @Test
    void next_fromUnknown_firstRoundDecidesAtOnce() {
        assertEquals(Status.UP, apply(MasterState.initial(now), GOOD).status());
        MasterState down = apply(MasterState.initial(now), BAD);
        assertEquals(Status.DOWN, down.status());
        assertEquals("nfs: connect timed out at master:2049", down.reason(), "only the failing probe is blamed");
    }

    @Test
    void next_whenUpAndFailuresBelowThreshold_staysUpSinceTheSameInstant() {
        MasterState up = apply(MasterState.initial(now), GOOD);
        MasterState s = apply(apply(up, BAD), BAD);
        assertEquals(Status.UP, s.status());
        assertEquals(up.since(), s.since());
        assertEquals(2, s.failuresInARow());
        MasterState down = apply(s, BAD);
        assertEquals(Status.DOWN, down.status());
        assertEquals(now, down.since());
        assertTrue(down.reason().startsWith("3 failed probe rounds in a row: nfs:"), down.reason());
    }

    @Test
    void next_whenFlapping_aSingleGoodRoundResetsTheFailureCount() {
        MasterState s = apply(MasterState.initial(now), GOOD);
        for (int i = 0; i < 20; i++) {
            s = apply(s, i % 2 == 0 ? BAD : GOOD);
            assertEquals(Status.UP, s.status(), "round " + i);
        }
    }

    @Test
    void next_whenDown_needsConsecutiveGoodRoundsToComeUp() {
        MasterState down = apply(MasterState.initial(now), BAD);
        MasterState one = apply(down, GOOD);
        assertEquals(Status.DOWN, one.status());
        MasterState interrupted = apply(one, BAD);
        assertEquals(0, interrupted.successesInARow());
        MasterState up = apply(apply(interrupted, GOOD), GOOD);
        assertEquals(Status.UP, up.status());
        assertTrue(up.reason().startsWith("all probes answered: rsync: @RSYNCD: 31.0; nfs:"), up.reason());
    }

    @Test
    void next_withNoProbeResults_countsAsFailure() {
        assertEquals(Status.DOWN, apply(MasterState.initial(now), List.of()).status());
    }
}
