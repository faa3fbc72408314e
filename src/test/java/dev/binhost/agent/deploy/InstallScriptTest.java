package dev.binhost.agent.deploy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/install.sh into a temporary root. The application directory is a stand-in with a quarkus-run.jar
 * file: the script only copies it; the OpenRC integration test installs and runs the real build.
 */
class InstallScriptTest {
    @TempDir
    Path tmp;

    Path root;
    Path app;

    @BeforeEach
    void app() throws Exception {
        root = tmp.resolve("root");
        app = Files.createDirectories(tmp.resolve("quarkus-app/lib/main"));
        app = app.getParent().getParent();
        Files.writeString(app.resolve("quarkus-run.jar"), "jar v1");
        Files.writeString(app.resolve("lib/main/a.jar"), "a");
    }

    private Sh.Result install(String... extra) throws Exception {
        var argv = new java.util.ArrayList<>(java.util.List.of("deploy/install.sh", "--destdir", root.toString(),
                "--app", app.toString()));
        argv.addAll(java.util.List.of(extra));
        return Sh.run(argv, java.util.Map.of(), 60);
    }

    @Test
    void install_intoATempRoot_laysOutEveryFile() throws Exception {
        Sh.Result r = install();
        assertEquals(0, r.exit(), r.all());

        assertEquals("jar v1", Files.readString(root.resolve("usr/lib/binhost-agent/quarkus-app/quarkus-run.jar")));
        assertTrue(Files.exists(root.resolve("usr/lib/binhost-agent/quarkus-app/lib/main/a.jar")));
        assertEquals("rwxr-xr-x", perms(root.resolve("usr/bin/binhost-agent")));
        assertEquals("rw-r-----", perms(root.resolve("etc/binhost-agent/binhost-agent.properties")));
        assertTrue(Files.exists(root.resolve("etc/binhost-agent/binhost-agent.properties.sample")));
        assertEquals("rwxr-x---", perms(root.resolve("var/lib/binhost-agent")));
        assertEquals("rwxr-x---", perms(root.resolve("var/log/binhost-agent")));
        assertEquals("rwxr-xr-x", perms(root.resolve("etc/init.d/binhost-agent")));
        assertTrue(Files.exists(root.resolve("etc/conf.d/binhost-agent")));
        assertTrue(Files.exists(root.resolve("usr/lib/systemd/system/binhost-agent.service")));
    }

    @Test
    void reinstall_keepsTheAdminsConfigAndConfd_andReplacesTheApplication() throws Exception {
        assertEquals(0, install().exit());
        Files.writeString(root.resolve("etc/binhost-agent/binhost-agent.properties"), "binhost.master.host=builder\n");
        Files.writeString(root.resolve("etc/conf.d/binhost-agent"), "BINHOST_AGENT_JAVA_OPTS=-Xmx80m\n");
        Files.writeString(app.resolve("quarkus-run.jar"), "jar v2");
        Files.delete(app.resolve("lib/main/a.jar"));

        Sh.Result r = install();
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("kept existing"), r.out());
        assertEquals("binhost.master.host=builder\n",
                Files.readString(root.resolve("etc/binhost-agent/binhost-agent.properties")));
        assertEquals("BINHOST_AGENT_JAVA_OPTS=-Xmx80m\n", Files.readString(root.resolve("etc/conf.d/binhost-agent")));
        assertEquals("jar v2", Files.readString(root.resolve("usr/lib/binhost-agent/quarkus-app/quarkus-run.jar")));
        assertFalse(Files.exists(root.resolve("usr/lib/binhost-agent/quarkus-app/lib/main/a.jar")),
                "a jar dropped from the build is gone, not left over");
    }

    @Test
    void uninstall_removesEverythingButTheAdminsConfiguration() throws Exception {
        assertEquals(0, install().exit());
        Files.writeString(root.resolve("var/lib/binhost-agent/history.jsonl"), "{}\n");

        Sh.Result r = Sh.run(java.util.List.of("deploy/install.sh", "--destdir", root.toString(), "--uninstall"),
                java.util.Map.of(), 60);
        assertEquals(0, r.exit(), r.all());

        try (var files = Files.walk(root)) {
            assertEquals(java.util.List.of("etc/binhost-agent/binhost-agent.properties", "etc/conf.d/binhost-agent"),
                    files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList());
        }
    }

    @Test
    void install_withoutABuild_failsAndNamesWhatIsMissing() throws Exception {
        Sh.Result r = Sh.run(java.util.List.of("deploy/install.sh", "--destdir", root.toString(), "--app",
                tmp.resolve("nothing").toString()), java.util.Map.of(), 60);
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("no built agent at"), r.err());
        assertFalse(Files.exists(root.resolve("usr/bin/binhost-agent")), "nothing half-installed");
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
