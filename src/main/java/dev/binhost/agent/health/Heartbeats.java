package dev.binhost.agent.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's loops say here by when they will next have done something; liveness reads it. A loop is wedged
 * when that time has passed: it missed its own due time by more than its bound. A loop waiting for an event
 * only is idle and cannot be wedged. Nothing here touches the network or a mount.
 */
@ApplicationScoped
public class Heartbeats {
    private final Clock clock;
    private final Map<String, Optional<Instant>> expected = new ConcurrentHashMap<>();

    @Inject
    public Heartbeats(Clock clock) {
        this.clock = clock;
    }

    /** {@code loop} will next report by {@code by}; past it the loop is wedged. */
    public void expect(String loop, Instant by) {
        expected.put(loop, Optional.of(by));
    }

    /** {@code loop} waits for an event only: nothing is due, so it cannot be late. */
    public void idle(String loop) {
        expected.put(loop, Optional.empty());
    }

    /** {@code loop} has stopped. */
    public void forget(String loop) {
        expected.remove(loop);
    }

    /** Loops past their due time, each with by how much. */
    public List<String> wedged() {
        Instant now = clock.instant();
        List<String> wedged = new ArrayList<>();
        new TreeMap<>(expected).forEach((loop, by) -> by.ifPresent(t -> {
            if (now.isAfter(t)) {
                wedged.add(loop + " overdue by " + Math.max(1, Duration.between(t, now).toSeconds())
                        + " s (due by " + t + ")");
            }
        }));
        return wedged;
    }

    /** Each loop's time by which it must next report, or "idle" for loops waiting for an event. */
    public Map<String, String> dueBy() {
        Map<String, String> out = new TreeMap<>();
        expected.forEach((loop, by) -> out.put(loop, by.map(Instant::toString).orElse("idle")));
        return out;
    }
}
