package dev.binhost.agent.binhost;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinreposTest {
    @TempDir
    Path etc;

    private PackagesConfig http(String... more) {
        String[] kv = new String[more.length + 6];
        kv[0] = "binhost.packages.transport";
        kv[1] = "http";
        kv[2] = "binhost.packages.url";
        kv[3] = "http://127.0.0.1:18082/binpkgs";
        kv[4] = "binhost.packages.binrepos";
        kv[5] = etc.resolve("binrepos.conf").toString();
        System.arraycopy(more, 0, kv, 6, more.length);
        return HttpBinhosts.config(kv);
    }

    @Test
    void managed_writesItsOwnFileOnce_besideTheAdminsFiles_whichStayAsTheyWere() throws IOException {
        Path dir = Files.createDirectories(etc.resolve("binrepos.conf"));
        Path admins = Files.writeString(dir.resolve("gentoobinhost.conf"),
                "[gentoobinhost]\npriority = 1\nsync-uri = https://binhost.example/amd64/\n");
        Binrepos.Ensured first = Binrepos.ensure(http("binhost.packages.verify-signature", "true"), "/etc/x.properties");
        assertTrue(first.ok() && first.written(), first.toString());
        Path own = dir.resolve("binhost-agent.conf");
        assertEquals(own, first.file());
        String text = Files.readString(own);
        assertTrue(text.contains("[binhost-agent]\npriority = 10\nsync-uri = http://127.0.0.1:18082/binpkgs\n"
                + "verify-signature = true\n"), text);
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(own)));
        assertEquals("[gentoobinhost]\npriority = 1\nsync-uri = https://binhost.example/amd64/\n",
                Files.readString(admins));
        try (var s = Files.list(dir)) {
            assertEquals(2, s.count(), "no temp file left behind");
        }
        long mtime = Files.getLastModifiedTime(own).toMillis();
        Binrepos.Ensured again = Binrepos.ensure(http("binhost.packages.verify-signature", "true"), "/etc/x.properties");
        assertTrue(again.ok() && !again.written(), again.toString());
        assertEquals(mtime, Files.getLastModifiedTime(own).toMillis());
        // a changed setting is written again; what Portage reads then names both binhosts
        assertTrue(Binrepos.ensure(http("binhost.packages.priority", "3"), "/etc/x.properties").written());
        List<Binrepos.Section> read = Binrepos.read(dir);
        // files in name order, as Portage reads them
        assertEquals(List.of("binhost-agent", "gentoobinhost"), read.stream().map(Binrepos.Section::name).toList());
        assertEquals("3", read.get(0).values().get("priority"));
        assertTrue(read.get(0).verifiesSignatures(), "Portage's default when the key is not set");
    }

    @Test
    void credentialsInTheUrl_makeTheFileReadableByRootOnly() throws IOException {
        PackagesConfig c = HttpBinhosts.config("binhost.packages.transport", "http", "binhost.packages.url",
                "https://slave:s3cret@master.lan/binpkgs", "binhost.packages.binrepos",
                etc.resolve("binrepos.conf").toString());
        assertTrue(Binrepos.ensure(c, "x").ok());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(c.ownEntry())));
        assertFalse(Binrepos.ensure(c, "x").detail().contains("s3cret"));
    }

    @Test
    void theAdminsPlainFile_isNeverReplaced_andTheErrorSaysWhatToDo() throws IOException {
        Path file = Files.writeString(etc.resolve("binrepos.conf"), "[local]\nsync-uri = http://other/\n");
        Binrepos.Ensured e = Binrepos.ensure(http(), "x");
        assertFalse(e.ok());
        assertTrue(e.detail().contains("is a file (the admin's)") && e.detail().contains("manage-binrepos=false"),
                e.detail());
        assertEquals("[local]\nsync-uri = http://other/\n", Files.readString(file));
    }

    @Test
    void aSectionOfTheSameNameElsewhere_isRefused() throws IOException {
        Path dir = Files.createDirectories(etc.resolve("binrepos.conf"));
        Files.writeString(dir.resolve("00-mine.conf"), "# mine\n[binhost-agent]\nsync-uri = http://x/\n");
        Binrepos.Ensured e = Binrepos.ensure(http(), "x");
        assertFalse(e.ok());
        assertTrue(e.detail().contains("00-mine.conf line 2 already has a section [binhost-agent]"), e.detail());
        assertFalse(Files.exists(dir.resolve("binhost-agent.conf")));
    }

    @Test
    void unmanaged_usesTheAdminsEntryForTheUrl_orSaysThereIsNone() throws IOException {
        Path dir = Files.createDirectories(etc.resolve("binrepos.conf"));
        Files.writeString(dir.resolve("master.conf"), "[master]\npriority=5\nsync-uri = http://127.0.0.1:18082/binpkgs/\n");
        Binrepos.Ensured found = Binrepos.ensure(http("binhost.packages.manage-binrepos", "false"), "x");
        assertTrue(found.ok(), found.toString());
        assertTrue(found.detail().contains("[master]"), found.detail());
        assertFalse(Files.exists(dir.resolve("binhost-agent.conf")));
        Files.writeString(dir.resolve("master.conf"), "[master]\nsync-uri = http://127.0.0.1:18083/binpkgs\n");
        Binrepos.Ensured missing = Binrepos.ensure(http("binhost.packages.manage-binrepos", "false"), "x");
        assertFalse(missing.ok());
        assertTrue(missing.detail().contains("no entry in " + dir + " has sync-uri = http://127.0.0.1:18082/binpkgs"),
                missing.detail());
    }

    @Test
    void unreadableLines_andHiddenOrBackupFiles() throws IOException {
        Path dir = Files.createDirectories(etc.resolve("binrepos.conf"));
        Files.writeString(dir.resolve(".binhost-agent.conf.new"), "[half");
        Files.writeString(dir.resolve("old.conf~"), "garbage");
        assertEquals(List.of(), Binrepos.read(dir), "hidden files and ~ backups are not read, as in Portage");
        Files.writeString(dir.resolve("a.conf"), "sync-uri = http://x/\n");
        IOException e = assertThrows(IOException.class, () -> Binrepos.read(dir));
        assertTrue(e.getMessage().contains("a.conf line 1"), e.getMessage());
        Binrepos.Ensured refused = Binrepos.ensure(http(), "x");
        assertFalse(refused.ok());
        assertFalse(Files.exists(dir.resolve("binhost-agent.conf")), "nothing written over an unreadable setup");
    }
}
