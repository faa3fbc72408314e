package dev.binhost.agent.portage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one /proc scan for emerge (update precondition "no-other-emerge" and the mount manager's guard). */
class RunningEmergeTest {
    @Test
    void pids_realProcessNamedEmerge_isFoundWhileItRunsAndNotAfter(@TempDir Path dir) throws Exception {
        Path emerge = dir.resolve("emerge");
        Files.copy(Path.of("/bin/sleep"), emerge, StandardCopyOption.COPY_ATTRIBUTES);
        Process p = new ProcessBuilder(emerge.toString(), "60").start();
        try {
            assertTrue(RunningEmerge.pids(Path.of("/proc")).contains(p.pid()));
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        assertFalse(RunningEmerge.pids(Path.of("/proc")).contains(p.pid()));
    }

    @Test
    void pids_realShellScriptNamedEmerge_isFoundByItsComm(@TempDir Path dir) throws Exception {
        Path emerge = Files.writeString(dir.resolve("emerge"), "#!/bin/sh\nsleep 60\n");
        assertTrue(emerge.toFile().setExecutable(true));
        // The kernel runs the script as "/bin/sh DIR/emerge": only comm says "emerge".
        Process p = new ProcessBuilder(emerge.toString()).start();
        try {
            assertTrue(RunningEmerge.pids(Path.of("/proc")).contains(p.pid()));
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void pids_fakeProcTree_findsPythonExecEmergeWithoutCommAndSkipsTheRest(@TempDir Path proc) throws Exception {
        process(proc, "4242", null, "/usr/bin/python3.12", "/usr/lib/python-exec/python3.12/emerge", "-uDN");
        process(proc, "17", "emerge\n", "/usr/bin/python3.12", "/usr/bin/emerge", "--sync");
        process(proc, "99", "python3.12\n", "/usr/bin/python3.12", "/usr/bin/emaint", "sync");
        Files.createDirectories(proc.resolve("123")); // ended between listing and reading: no cmdline
        Files.createDirectories(proc.resolve("self"));
        Files.writeString(proc.resolve("loadavg"), "0.1 0.1 0.1 1/1 1\n");
        assertEquals(List.of(17L, 4242L), RunningEmerge.pids(proc));
        assertEquals("pids 17, 4242", RunningEmerge.describe(RunningEmerge.pids(proc)));
        assertEquals("pid 17", RunningEmerge.describe(List.of(17L)));
    }

    @Test
    void pids_procThatCannotBeListed_isAnError(@TempDir Path dir) {
        assertThrows(IOException.class, () -> RunningEmerge.pids(dir.resolve("no-proc")));
    }

    @Test
    void isEmerge_pythonRunningTheEmergeScript_counts_otherScriptsDoNot() {
        assertTrue(RunningEmerge.isEmerge("python3.12\n", argv("/usr/bin/python3.12", "/usr/bin/emerge", "-uDN")));
        assertTrue(RunningEmerge.isEmerge("emerge\n", argv("/usr/bin/emerge", "--sync")));
        assertTrue(RunningEmerge.isEmerge("", argv("emerge", "--sync")));
        assertFalse(RunningEmerge.isEmerge("python3.12\n", argv("/usr/bin/python3.12", "/usr/bin/emaint", "sync")));
        assertFalse(RunningEmerge.isEmerge("vim\n", argv("vim", "emerge")));
        assertFalse(RunningEmerge.isEmerge("emerge-webrsyn\n", argv("/bin/bash", "/usr/bin/emerge-webrsync")));
        assertFalse(RunningEmerge.isEmerge("kworker/0:1\n", new String[0]));
        assertFalse(RunningEmerge.isEmerge("", new String[] {""}));
    }

    private static String[] argv(String... args) {
        return args;
    }

    private static void process(Path proc, String pid, String comm, String... argv) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(pid));
        if (comm != null) {
            Files.writeString(dir.resolve("comm"), comm);
        }
        Files.write(dir.resolve("cmdline"), (String.join("\0", argv) + "\0").getBytes(StandardCharsets.UTF_8));
    }
}
