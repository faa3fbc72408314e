package dev.binhost.agent.mount;

import dev.binhost.agent.portage.EmergeActivity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmergeGuardTest {
    @Test
    void emergeRunning_anAdminsEmergeInProc_blocksNamingItsPid(@TempDir Path proc) throws Exception {
        Path pid = Files.createDirectories(proc.resolve("4242"));
        Files.writeString(pid.resolve("comm"), "emerge\n");
        Files.write(pid.resolve("cmdline"), "/usr/bin/python3.12\0/usr/bin/emerge\0-uDN\0".getBytes());
        MountState.EmergeRunning seen = new EmergeGuard(new EmergeActivity(proc)).emergeRunning().orElseThrow();
        assertEquals(List.of(4242L), seen.pids());
        assertEquals("release deferred: emerge is running (pid 4242)", seen.describe());
        Files.delete(pid.resolve("cmdline"));
        assertTrue(new EmergeGuard(new EmergeActivity(proc)).emergeRunning().isEmpty(), "the process ended");
    }

    @Test
    void emergeRunning_updateActivitySaysSo_winsWithoutProcScan(@TempDir Path emptyProc) {
        EmergeActivity running = new EmergeActivity(emptyProc);
        running.watchAgentRun(() -> Optional.of("20261202T033000Z-ab12"));
        assertEquals("release deferred: the agent's update run has an emerge running",
                new EmergeGuard(running).emergeRunning().orElseThrow().describe());
        assertTrue(new EmergeGuard(new EmergeActivity(emptyProc)).emergeRunning().isEmpty());
    }

    @Test
    void emergeRunning_procCannotBeListed_doesNotBlock(@TempDir Path dir) {
        assertTrue(new EmergeGuard(new EmergeActivity(dir.resolve("no-proc"))).emergeRunning().isEmpty());
    }
}
