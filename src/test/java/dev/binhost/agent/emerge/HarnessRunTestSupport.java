package dev.binhost.agent.emerge;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the opt-in harness tests share: putting the harness host back ({@code BINHOST_TEST_HARNESS_RESTORE}). */
final class HarnessRunTestSupport {
    private HarnessRunTestSupport() {
    }

    static void restore() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", System.getenv("BINHOST_TEST_HARNESS_RESTORE")).inheritIO().start();
        assertEquals(0, p.waitFor(), "the restore command failed");
    }
}
