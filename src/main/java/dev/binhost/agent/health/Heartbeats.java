package dev.binhost.agent.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's loops say they are alive here; liveness reads it. A loop is wedged when it has not beaten for
 * longer than the silence it declared. Nothing here touches the network or a mount.
 */
@ApplicationScoped
public class Heartbeats {
    private final Clock clock;
    private final Map<String, Beat> beats = new ConcurrentHashMap<>();

    @Inject
    public Heartbeats(Clock clock) {
        this.clock = clock;
    }

    /** Records that {@code loop} is alive and may next be silent for at most {@code maxSilence}. */
    public void beat(String loop, Duration maxSilence) {
        beats.put(loop, new Beat(clock.instant(), maxSilence));
    }

    /** Loops that have been silent for too long, each with how long. */
    public List<String> wedged() {
        Instant now = clock.instant();
        List<String> wedged = new ArrayList<>();
        beats.forEach((loop, beat) -> {
            Duration silent = Duration.between(beat.at(), now);
            if (silent.compareTo(beat.maxSilence()) > 0) {
                wedged.add(loop + " silent for " + silent.toSeconds() + " s (allowed " + beat.maxSilence().toSeconds()
                        + " s)");
            }
        });
        return wedged;
    }

    public Map<String, Instant> last() {
        Map<String, Instant> out = new java.util.TreeMap<>();
        beats.forEach((loop, beat) -> out.put(loop, beat.at()));
        return out;
    }

    private record Beat(Instant at, Duration maxSilence) {
    }
}
