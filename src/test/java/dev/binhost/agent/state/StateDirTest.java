package dev.binhost.agent.state;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StateDirTest {
    private final StateDir dir = new StateDir(Path.of("/var/lib/binhost-agent/./"));

    @Test
    void everyFileIsDistinct_directlyInTheStateDir_andListedInTheReadme() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Set<Path> seen = new HashSet<>();
        int files = 0;
        for (Method m : StateDir.class.getDeclaredMethods()) {
            if (m.getReturnType() != Path.class || m.getParameterCount() != 0 || !Modifier.isPublic(m.getModifiers())
                    || m.getName().equals("root")) {
                continue;
            }
            Path p = (Path) m.invoke(dir);
            files++;
            assertEquals(Path.of("/var/lib/binhost-agent"), p.getParent(), m.getName() + ": " + p);
            assertTrue(seen.add(p), m.getName() + " names a file another method names: " + p);
            String name = p.getFileName().toString();
            assertTrue(readme.contains("| `" + name + "` |") || readme.contains("| `" + name + "/` |"),
                    "README's state directory table lists " + name);
        }
        assertTrue(files >= 11, "found " + files + " state files");
    }
}
