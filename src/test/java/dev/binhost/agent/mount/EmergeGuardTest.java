package dev.binhost.agent.mount;

import dev.binhost.agent.spi.UpdateActivity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmergeGuardTest {
    @Test
    void emergePids_realProcessNamedEmerge_isFound(@TempDir Path dir) throws Exception {
        Path emerge = dir.resolve("emerge");
        Files.copy(Path.of("/bin/sleep"), emerge, StandardCopyOption.COPY_ATTRIBUTES);
        Process p = new ProcessBuilder(emerge.toString(), "60").start();
        try {
            assertTrue(EmergeGuard.emergePids(Path.of("/proc")).contains(p.pid()));
            assertTrue(new EmergeGuard(List.of(), Path.of("/proc")).emergeRunning().isPresent());
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        assertFalse(EmergeGuard.emergePids(Path.of("/proc")).contains(p.pid()));
    }

    @Test
    void isEmerge_pythonRunningTheEmergeScript_counts_otherScriptsDoNot() {
        assertTrue(EmergeGuard.isEmerge("python3.12\n", argv("/usr/bin/python3.12", "/usr/bin/emerge", "-uDN")));
        assertTrue(EmergeGuard.isEmerge("emerge\n", argv("/usr/bin/emerge", "--sync")));
        assertFalse(EmergeGuard.isEmerge("python3.12\n", argv("/usr/bin/python3.12", "/usr/bin/emaint", "sync")));
        assertFalse(EmergeGuard.isEmerge("vim\n", argv("vim", "emerge")));
        assertFalse(EmergeGuard.isEmerge("kworker/0:1\n", new byte[0]));
    }

    @Test
    void emergeRunning_updateActivitySaysSo_winsWithoutProcScan(@TempDir Path emptyProc) {
        UpdateActivity running = () -> true;
        assertEquals("the agent's update run has an emerge running",
                new EmergeGuard(List.of(running), emptyProc).emergeRunning().orElseThrow());
        assertTrue(new EmergeGuard(List.of(() -> false), emptyProc).emergeRunning().isEmpty());
    }

    private static byte[] argv(String... args) {
        return (String.join("\0", args) + "\0").getBytes(StandardCharsets.UTF_8);
    }
}
