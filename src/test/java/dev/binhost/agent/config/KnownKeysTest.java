package dev.binhost.agent.config;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Misspelt keys and booleans in the admin's file or the environment stop start-up (ConfigCheck, exit 78)
 * instead of being ignored or read as false.
 */
class KnownKeysTest {
    @TempDir
    Path dir;

    private final Map<String, String> base = new HashMap<>(Map.of("binhost.master.host", "master",
            "binhost.master.nfs-check", "none"));

    /** The admin's file, read by the same config source class the agent's provider uses, at its ordinal. */
    private List<String> problemsWithFile(String text) throws Exception {
        Path file = dir.resolve("binhost-agent.properties");
        Files.writeString(file, text);
        return ConfigCheck.problems(AgentConfigs.of(base,
                new PropertiesConfigSource(file.toUri().toURL(), AgentConfigFile.ORDINAL)));
    }

    private static void assertHasLine(List<String> problems, String line) {
        assertTrue(problems.contains(line), "expected '" + line + "' in " + problems);
    }

    @Test
    void misspeltBooleans_areRefusedWithTheKeyAndTheAcceptedValues() throws Exception {
        List<String> problems = problemsWithFile("binhost.sync.allow-empty=ture\nbinhost.update.catch-up=flase\n");

        assertHasLine(problems, "binhost.sync.allow-empty: must be true or false, was 'ture'");
        assertHasLine(problems, "binhost.update.catch-up: must be true or false, was 'flase'");
    }

    @Test
    void unknownKeyUnderAKnownPrefix_isRefusedWithTheKeyItMeant() throws Exception {
        List<String> problems = problemsWithFile("binhost.snyc.interval=5m\nbinhost.sync.intervall=5m\n"
                + "binhost.whatever=1\n");

        assertHasLine(problems, "binhost.snyc.interval: unknown key, did you mean binhost.sync.interval?");
        assertHasLine(problems, "binhost.sync.intervall: unknown key, did you mean binhost.sync.interval?");
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("binhost.whatever: unknown key")), problems.toString());
    }

    @Test
    void environmentVariables_areCheckedToo() {
        List<String> problems = ConfigCheck.problems(AgentConfigs.of(base, new EnvConfigSource(Map.of(
                "BINHOST_SNYC_INTERVAL", "5m", "BINHOST_SYNC_ALLOW_EMPTY", "yes", "BINHOST_AGENT_CONFIG", "/x",
                "BINHOST_MOUNT_MOUNTS_PKG_TARGET", "/var/cache/binpkgs", "BINHOST_MOUNT_MOUNTS_PKG_FSTAB", "true"),
                300)));

        assertHasLine(problems, "BINHOST_SNYC_INTERVAL: unknown key, did you mean BINHOST_SYNC_INTERVAL?");
        assertTrue(problems.stream().anyMatch(p -> p.endsWith("must be true or false, was 'yes'")), problems.toString());
        assertEquals(2, problems.size(), problems.toString());
    }

    @Test
    void everyVariableTheServiceFilesAndLauncherUse_isAccepted() throws Exception {
        // An agent started by OpenRC gets BINHOST_AGENT_HOME exported from conf.d: refusing it stops every start.
        Map<String, String> env = new HashMap<>();
        java.util.regex.Pattern var = java.util.regex.Pattern.compile("BINHOST_AGENT_[A-Z_]+");
        for (String file : List.of("deploy/openrc/binhost-agent", "deploy/openrc/binhost-agent.confd",
                "deploy/bin/binhost-agent", "deploy/systemd/binhost-agent.service")) {
            var m = var.matcher(Files.readString(Path.of(file)));
            while (m.find()) {
                String name = m.group().replaceAll("_+$", "");
                env.put(name, name.endsWith("_DIR") ? "/var/lib/binhost-agent" : "60");
            }
        }
        assertTrue(env.containsKey("BINHOST_AGENT_HOME"), env.toString());
        List<String> problems = ConfigCheck.problems(AgentConfigs.of(base, new EnvConfigSource(env, 300)));
        assertEquals(List.of(), problems, "variables " + env.keySet());
    }

    @Test
    void everyKeyOfTheReferenceFile_isKnown_andCorrectValuesPass() throws Exception {
        // The reference file lists every key commented out; uncommented, none may be called unknown.
        StringBuilder keys = new StringBuilder();
        for (String line : Files.readAllLines(Path.of("config/binhost-agent.properties"))) {
            if (line.matches("#binhost\\.[a-z0-9.-]+=.+")) {
                keys.append(line.substring(1)).append('\n');
            }
        }
        List<String> unknown = problemsWithFile(keys.toString()).stream().filter(p -> p.contains("unknown key"))
                .toList();
        assertEquals(List.of(), unknown);
        assertEquals(List.of(), problemsWithFile("binhost.sync.allow-empty=true\nbinhost.update.catch-up=false\n"
                + "binhost.mount.mounts.packages.target=/var/cache/binpkgs\nbinhost.mount.mounts.packages.fstab=true\n"
                + "binhost.update.exclude[0]=sys-kernel/gentoo-sources\n"));
    }
}
