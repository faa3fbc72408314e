package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunHistoryTest;
import dev.binhost.agent.spi.StatusContributor;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole agent starting on a state dir full of bad lines and files: it must start, not exit into a restart loop. */
@QuarkusTest
@TestProfile(BadStateStartTest.BadState.class)
class BadStateStartTest {
    static final Path STATE = Path.of("target/test-state-bad").toAbsolutePath();

    /** Writes the bad state before the agent starts. */
    public static class BadState implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                if (Files.exists(STATE)) {
                    try (var walk = Files.walk(STATE)) {
                        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
                RunHistoryTest.writeBadHistory(STATE.resolve("history.jsonl"));
                Files.writeString(STATE.resolve("current-run.json"), "{\"record\":{\"id\":\"x\",\"startedAt\":\"soon\"},\"phase\":\"apply\"}");
                Files.write(STATE.resolve("last-run"), new byte[] {(byte) 0xff, 0, 'x', '\n'});
                Files.writeString(STATE.resolve("config-pull.held"), "yesterday\n");
                Files.writeString(STATE.resolve("mounts-owned.properties"), "packages=not-a-number\n");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return Map.of("binhost.agent.state-dir", STATE.toString(),
                    "binhost.agent.log-dir", STATE.resolve("log").toString());
        }
    }

    @Inject
    UpdateService service;

    @Inject
    Instance<StatusContributor> sections;

    @Test
    void start_onBadHistoryMarkerAndStamps_agentRuns_statusShowsTheNewestGoodRun() throws Exception {
        service.loop().awaitIdle(); // the update loop's first step checks the marker, off the start-up path
        assertEquals(3, service.loop().runner().history().read().size());
        var status = sections.stream().filter(s -> s.section().equals("update")).findFirst().orElseThrow().status();
        assertTrue(status.get("last").toString().contains("run-3"), status.toString());
        assertFalse(Files.exists(STATE.resolve("current-run.json")), "the broken marker was dropped, with a warning");
    }
}
