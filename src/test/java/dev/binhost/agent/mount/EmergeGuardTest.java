package dev.binhost.agent.mount;

import dev.binhost.agent.spi.UpdateActivity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmergeGuardTest {
    @Test
    void emergeRunning_realProcessNamedEmerge_blocksUntilItEnds(@TempDir Path dir) throws Exception {
        Path emerge = dir.resolve("emerge");
        Files.copy(Path.of("/bin/sleep"), emerge, StandardCopyOption.COPY_ATTRIBUTES);
        Process p = new ProcessBuilder(emerge.toString(), "60").start();
        try {
            String why = new EmergeGuard(List.of(), Path.of("/proc")).emergeRunning().orElseThrow();
            assertTrue(why.startsWith("emerge is running (pid") && why.matches(".*\\b" + p.pid() + "\\b.*"), why);
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        assertTrue(new EmergeGuard(List.of(), Path.of("/proc")).emergeRunning()
                .filter(why -> why.matches(".*\\b" + p.pid() + "\\b.*")).isEmpty());
    }

    @Test
    void emergeRunning_updateActivitySaysSo_winsWithoutProcScan(@TempDir Path emptyProc) {
        UpdateActivity running = () -> true;
        assertEquals("the agent's update run has an emerge running",
                new EmergeGuard(List.of(running), emptyProc).emergeRunning().orElseThrow());
        assertTrue(new EmergeGuard(List.of(() -> false), emptyProc).emergeRunning().isEmpty());
    }

    @Test
    void emergeRunning_procCannotBeListed_doesNotBlock(@TempDir Path dir) {
        assertTrue(new EmergeGuard(List.of(() -> false), dir.resolve("no-proc")).emergeRunning().isEmpty());
    }
}
