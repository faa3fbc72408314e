package dev.binhost.agent.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/release.sh: the tarball holds what the ebuild and install.sh take from it, with the application's mtimes
 * (the AOT cache checks them), and install.sh installs from the unpacked tarball as from a checkout. The
 * application is a stand-in directory; the Gentoo package was verified with the real build and Portage
 * (harness/ebuild-verify.sh).
 */
class ReleaseScriptTest {
    @TempDir
    Path tmp;

    @Test
    void tarball_holdsTheAppTheDeployFilesAndTheConfig_keepsMtimes_andInstallsFromItself() throws Exception {
        Path app = Files.createDirectories(tmp.resolve("quarkus-app/lib/main")).getParent().getParent();
        Files.writeString(app.resolve("quarkus-run.jar"), "jar");
        Files.writeString(app.resolve("lib/main/a.jar"), "a");
        FileTime trained = FileTime.fromMillis(1_700_000_000_000L);
        Files.setLastModifiedTime(app.resolve("lib/main/a.jar"), trained);
        Path out = tmp.resolve("release");
        Sh.Result r = Sh.run(List.of("deploy/release.sh", "--app", app.toString(), "--out", out.toString(),
                "--version", "9.8.7"), Map.of(), 60);
        assertEquals(0, r.exit(), r.all());
        Path tarball = out.resolve("binhost-agent-9.8.7.tar.gz");
        assertTrue(r.out().startsWith(tarball + " ("), r.out());

        Sh.Result list = Sh.run(List.of("tar", "-tzvf", tarball.toString()), Map.of(), 30);
        assertEquals(0, list.exit(), list.all());
        for (String entry : List.of("quarkus-app/quarkus-run.jar", "quarkus-app/lib/main/a.jar",
                "deploy/bin/binhost-agent", "deploy/install.sh", "deploy/openrc/binhost-agent",
                "deploy/openrc/binhost-agent.confd", "deploy/systemd/binhost-agent.service",
                "deploy/monitoring/binhost-agent.rules.yml", "config/binhost-agent.properties", "README.md")) {
            assertTrue(list.out().contains(" binhost-agent-9.8.7/" + entry + "\n"), entry + " in\n" + list.out());
        }
        assertTrue(list.out().lines().allMatch(l -> l.contains(" 0/0 ")), "owned by root:\n" + list.out());

        Path unpacked = Files.createDirectories(tmp.resolve("unpacked"));
        assertEquals(0, Sh.run(List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()), Map.of(), 30)
                .exit());
        Path top = unpacked.resolve("binhost-agent-9.8.7");
        assertEquals(trained, Files.getLastModifiedTime(top.resolve("quarkus-app/lib/main/a.jar")));
        Path root = tmp.resolve("root");
        Sh.Result install = Sh.run(List.of(top.resolve("deploy/install.sh").toString(), "--destdir",
                root.toString()), Map.of(), 60);
        assertEquals(0, install.exit(), install.all());
        assertEquals("jar", Files.readString(root.resolve("usr/lib/binhost-agent/quarkus-app/quarkus-run.jar")));
        assertTrue(Files.isExecutable(root.resolve("usr/bin/binhost-agent")));
    }

    @Test
    void noBuiltApp_orABadVersion_isRefusedByName() throws Exception {
        Sh.Result none = Sh.run(List.of("deploy/release.sh", "--app", tmp.resolve("nothing").toString(), "--out",
                tmp.toString()), Map.of(), 30);
        assertEquals(1, none.exit());
        assertTrue(none.err().contains("no built agent at " + tmp.resolve("nothing")), none.all());
        Sh.Result bad = Sh.run(List.of("deploy/release.sh", "--version", "1.0; rm -rf /"), Map.of(), 30);
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("not a version: '1.0; rm -rf /'"), bad.all());
    }
}
