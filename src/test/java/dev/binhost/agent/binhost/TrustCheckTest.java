package dev.binhost.agent.binhost;

import dev.binhost.agent.portage.Finding;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** check's findings on the binaries' trust, with the real gpg and a GnuPG home of the test's own. */
class TrustCheckTest {
    private static final String FPR = "F8A438D57AF248AD7C6E7FB82D7E3D1112E02723";
    private static final Path KEY = Path.of("src/test/resources/fixtures/gnupg/master-test-key.asc").toAbsolutePath();

    @TempDir
    Path etc;
    private final ProcessRunner runner = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 65536);

    private PackagesConfig http(String... more) {
        List<String> kv = new java.util.ArrayList<>(List.of("binhost.packages.transport", "http",
                "binhost.packages.url", "http://127.0.0.1:18082/binpkgs",
                "binhost.packages.binrepos", etc.resolve("binrepos.conf").toString(),
                "binhost.packages.gnupg-dir", etc.resolve("gnupg").toString()));
        kv.addAll(List.of(more));
        return HttpBinhosts.config(kv.toArray(String[]::new));
    }

    private void gpg(String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("gpg", "--homedir", etc.resolve("gnupg").toString(),
                "--batch", "--no-tty"));
        argv.addAll(List.of(args));
        var r = runner.run(Command.of("gpg", argv).deadline(Duration.ofSeconds(30)).build());
        assertTrue(r.succeeded(), r.summary() + "\n" + r.outputTail());
    }

    private static String topics(List<Finding> f) {
        return String.join("\n", f.stream().map(x -> x.level() + " " + x.topic() + ": " + x.what()).toList());
    }

    @Test
    void theGnupgDir_fromMissing_toAKeyPresent_toATrustedKey() throws Exception {
        PackagesConfig c = http();
        List<Finding> none = TrustCheck.run(c, Map.of(), "x", runner);
        assertTrue(topics(none).contains("PROBLEM gnupg: " + etc.resolve("gnupg") + " does not exist"), topics(none));
        assertTrue(topics(none).contains("is not there yet; the agent writes it before the next run")
                        || none.stream().noneMatch(f -> f.topic().equals("binrepos.conf")), topics(none));
        assertTrue(Files.notExists(c.ownEntry()), "check writes nothing");

        Files.createDirectories(etc.resolve("gnupg"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        gpg("--import", KEY.toString());
        List<Finding> untrusted = TrustCheck.run(c, Map.of(), "x", runner);
        assertTrue(topics(untrusted).contains("is valid to GnuPG (full or ultimate): [2D7E3D1112E02723 binhost-agent"
                + " test master <master@binhost.test> (validity -)]"), topics(untrusted));

        Files.writeString(etc.resolve("ownertrust"), FPR + ":6:\n");
        gpg("--import-ownertrust", etc.resolve("ownertrust").toString());
        String rootOnly = topics(TrustCheck.run(c, Map.of(), "x", runner));
        // gpg makes the directory and trustdb.gpg for root alone
        assertTrue(rootOnly.contains("PROBLEM gnupg: " + etc.resolve("gnupg") + ", " + etc.resolve("gnupg/trustdb.gpg"))
                && rootOnly.contains("not readable by others: Portage verifies signatures as user nobody"), rootOnly);
        Files.setPosixFilePermissions(etc.resolve("gnupg"), PosixFilePermissions.fromString("rwxr-xr-x"));
        try (var files = Files.list(etc.resolve("gnupg"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
        assertEquals("", topics(TrustCheck.run(c, Map.of(), "x", runner)));

        Files.setPosixFilePermissions(etc.resolve("gnupg"), PosixFilePermissions.fromString("rwxrwxrwx"));
        assertTrue(topics(TrustCheck.run(c, Map.of(), "x", runner)).contains("is writable by group or others"));
    }

    @Test
    void signaturesOff_isAdvice_andThenGnupgIsNotAsked() throws Exception {
        Path dir = Files.createDirectories(etc.resolve("binrepos.conf"));
        Files.writeString(dir.resolve("other.conf"), "[other]\nsync-uri = http://u:pw@other.lan/p\nverify-signature = false\n");
        List<Finding> f = TrustCheck.run(http("binhost.packages.verify-signature", "false"), Map.of(), "x", runner);
        String t = topics(f);
        assertTrue(t.contains("ADVICE verify-signature: [other] in " + dir.resolve("other.conf")
                + ": binaries from http://u:***@other.lan/p are installed without checking"), t);
        assertTrue(t.contains("ADVICE verify-signature: binhost.packages.verify-signature=false"), t);
        assertTrue(f.stream().noneMatch(x -> x.topic().equals("gnupg")), t);
    }

    @Test
    void nfs_asksGnupgOnlyWhenPortageRequestsSignatures() throws Exception {
        PackagesConfig nfs = HttpBinhosts.config("binhost.packages.gnupg-dir", etc.resolve("gnupg").toString());
        assertEquals("", topics(TrustCheck.run(nfs, Map.of("FEATURES", "buildpkg"), "x", runner)));
        assertTrue(topics(TrustCheck.run(nfs, Map.of("FEATURES", "buildpkg binpkg-request-signature"), "x", runner))
                .contains("PROBLEM gnupg"));
    }

    @Test
    void gpgsColons_pubThenUid() {
        assertEquals(List.of(new TrustCheck.Key("2D7E3D1112E02723", 'u', "m <m@x>"), new TrustCheck.Key("AB", 'e', "")),
                TrustCheck.keys("tru:o:1:1796237560:1:3:1:5\npub:u:255:22:2D7E3D1112E02723:1796237560:::u:::scSC::\n"
                        + "fpr:::::::::F8A4:\nuid:u::::1796237560::D225::m <m@x>::::\npub:e:255:22:AB:1:::-:::sc::\n"));
    }
}
