package dev.binhost.agent.config;

import io.smallrye.config.ConfigMapping;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up check covers every feature's mapping, without a service lookup a native image would lack. */
class ConfigCheckTest {

    @Test
    void mappings_listEveryCheckedConfigMappingOfTheAgent() throws Exception {
        Path classes = Path.of(ConfigCheck.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<Class<?>> checked = new HashSet<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                String name = classes.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> c = Class.forName(name, false, ConfigCheck.class.getClassLoader());
                if (c.isInterface() && c.isAnnotationPresent(ConfigMapping.class) && Checked.class.isAssignableFrom(c)) {
                    checked.add(c);
                }
            }
        }
        assertTrue(checked.size() >= 7, "found only " + checked + " under " + classes);
        assertEquals(checked, Set.copyOf(ConfigCheck.MAPPINGS), "ConfigCheck.MAPPINGS against the compiled classes");
        assertEquals(ConfigCheck.MAPPINGS.size(), Set.copyOf(ConfigCheck.MAPPINGS).size(), "listed twice");
    }

    @Test
    void problems_nameABadHostAndABadDuration_fromTwoFeatures() {
        Map<String, String> values = new HashMap<>(Map.of("binhost.master.host", "bad_host!",
                "binhost.master.nfs-check", "none", "binhost.update.run-deadline", "-5s"));
        List<String> problems = ConfigCheck.problems(AgentConfigs.of(values));
        assertTrue(problems.stream().anyMatch(p -> p.contains("binhost.master.host") && p.contains("bad_host!")),
                problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("binhost.update.run-deadline")), problems.toString());
        assertFalse(ConfigCheck.problems(AgentConfigs.of(Map.of("binhost.master.host", "master.lan",
                "binhost.master.nfs-check", "none"))).stream().anyMatch(p -> p.contains("binhost.master.host")));
    }
}
