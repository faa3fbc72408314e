package dev.binhost.agent.mount;

import dev.binhost.agent.spi.UpdateActivity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmergeGuardTest {
    @Test
    void emergeRunning_anAdminsEmergeInProc_blocksNamingItsPid(@TempDir Path proc) throws Exception {
        Path pid = Files.createDirectories(proc.resolve("4242"));
        Files.writeString(pid.resolve("comm"), "emerge\n");
        Files.write(pid.resolve("cmdline"), "/usr/bin/python3.12\0/usr/bin/emerge\0-uDN\0".getBytes());
        MountState.EmergeRunning seen = new EmergeGuard(List.of(() -> false), proc).emergeRunning().orElseThrow();
        assertEquals(List.of(4242L), seen.pids());
        assertEquals("release deferred: emerge is running (pid 4242)", seen.describe());
        Files.delete(pid.resolve("cmdline"));
        assertTrue(new EmergeGuard(List.of(() -> false), proc).emergeRunning().isEmpty(), "the process ended");
    }

    @Test
    void emergeRunning_updateActivitySaysSo_winsWithoutProcScan(@TempDir Path emptyProc) {
        UpdateActivity running = () -> true;
        assertEquals("release deferred: the agent's update run has an emerge running",
                new EmergeGuard(List.of(running), emptyProc).emergeRunning().orElseThrow().describe());
        assertTrue(new EmergeGuard(List.of(() -> false), emptyProc).emergeRunning().isEmpty());
    }

    @Test
    void emergeRunning_procCannotBeListed_doesNotBlock(@TempDir Path dir) {
        assertTrue(new EmergeGuard(List.of(() -> false), dir.resolve("no-proc")).emergeRunning().isEmpty());
    }
}
