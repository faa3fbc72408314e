package dev.binhost.agent.deploy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SystemdUnitTest {
    static final Path UNIT = Sh.REPO.resolve("deploy/systemd/binhost-agent.service");

    @Test
    void verify_unitAsInstalled_printsNothing(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Sh.onPath("systemd-analyze"), "systemd-analyze is not installed (apt-get install systemd)");
        // verify checks that ExecStart exists: point it at the launcher as installed into a temp root.
        Path launcher = tmp.resolve("usr/bin/binhost-agent");
        Files.createDirectories(launcher.getParent());
        Files.copy(Sh.REPO.resolve("deploy/bin/binhost-agent"), launcher);
        String unit = Files.readString(UNIT).replace("ExecStart=/usr/bin/binhost-agent ", "ExecStart=" + launcher + " ");
        Path copy = Files.writeString(tmp.resolve("binhost-agent.service"), unit);

        Sh.Result r = Sh.run(List.of("systemd-analyze", "verify", copy.toString()), Map.of("SYSTEMD_LOG_COLOR", "0"), 60);
        assertEquals("", r.err(), "systemd-analyze verify complained");
        assertEquals(0, r.exit());
    }

    @Test
    void unit_neverGivesTheAgentAPrivateMountNamespace_andNeverKillsEmerge() throws Exception {
        List<String> keys = Files.readAllLines(UNIT).stream().filter(l -> !l.startsWith("#") && l.contains("="))
                .map(l -> l.substring(0, l.indexOf('='))).toList();
        for (String hiding : List.of("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateMounts", "ReadOnlyPaths",
                "InaccessiblePaths", "TemporaryFileSystem", "ProtectKernelModules", "PrivateDevices")) {
            assertFalse(keys.contains(hiding), hiding + " would give the agent its own mount namespace");
        }
        String text = Files.readString(UNIT);
        assertTrue(text.contains("\nKillMode=process\n"));
        assertTrue(text.contains("\nRestart=on-failure\n"));
        assertTrue(text.contains("\nAfter=network-online.target remote-fs.target\n"));
    }
}
