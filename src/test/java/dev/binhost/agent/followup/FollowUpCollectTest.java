package dev.binhost.agent.followup;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The follow-up readers and the collector against what the real tools printed on the harness slave. */
class FollowUpCollectTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"00-clean, 0", "01-orphan, 1", "02-after-portage-first, 1", "03-after-update, 1",
            "04-after-preserved-rebuild, 1"})
    void depclean_bothOutputForms_countAndName(String kase, int count) {
        for (String glob : List.of("depclean.rc*.txt", "depclean-quiet.rc*.txt")) {
            String out = FollowUpFixtures.text(kase, glob);
            var d = Parse.depclean(out);
            if (out.isBlank()) {
                // --quiet with nothing to remove prints nothing at all: no count to read
                assertEquals(0, count, kase + " " + glob);
                assertTrue(d.isEmpty());
                continue;
            }
            assertEquals(count, d.orElseThrow().count(), kase + " " + glob);
            assertEquals(count == 0 ? List.of() : List.of("app-misc/demo-legacy-1.0"), d.get().packages(), kase);
        }
    }

    @Test
    void depclean_refusal_hasNoCount() {
        // what emerge prints when it cannot resolve @world (fixtures/emerge: a real run with a missing dependency)
        assertTrue(Parse.depclean("!!! The following update(s) have been skipped due to unsatisfied dependencies\n"
                + "emerge: there are no ebuilds to satisfy \"dev-libs/demo-vanished\".\n").isEmpty());
    }

    @ParameterizedTest
    @CsvSource({"00-clean, ''", "02-after-portage-first, 202611-01", "03-after-update, 202611-01"})
    void glsaCheck_affectedIds_fromStdoutAndStderrTogether(String kase, String ids) {
        String merged = FollowUpFixtures.text(kase, "glsa-check.rc*.stdout")
                + FollowUpFixtures.text(kase, "glsa-check.rc*.stderr");
        assertEquals(ids.isEmpty() ? List.of() : List.of(ids), Parse.glsaIds(merged), merged);
    }

    @Test
    void preservedLibs_perLibraryWithItsPackage() {
        assertEquals(List.of("/usr/lib64/libdemo.so.1 (dev-libs/libdemo-1.3.0)"),
                Parse.preservedLibs(FollowUpFixtures.text("03-after-update", "portageq-preserved.rc*.txt")));
        assertEquals(List.of(), Parse.preservedLibs(FollowUpFixtures.text("04-after-preserved-rebuild",
                "portageq-preserved.rc*.txt")));
    }

    @Test
    void envvar_protectThenMask() {
        Parse.Protect p = Parse.envvar(FollowUpFixtures.text("03-after-update", "portageq-envvar.rc*.txt"));
        assertEquals(List.of("/etc"), p.protect());
        assertEquals(List.of("/etc/env.d"), p.mask());
    }

    @Test
    void needrestart_kernelUnknownIsNotPending_sessionsAre() throws Exception {
        Parse.Restart plain = Parse.needrestart(Files.readString(FollowUpFixtures.DIR.resolve("needrestart/plain.rc0.txt")));
        assertEquals(0, plain.kernelStatus().getAsInt());
        assertFalse(plain.kernelPending(), "KSTA 0 is 'unknown', not an upgrade");
        assertEquals(List.of(), plain.items());
        Parse.Restart tty = Parse.needrestart(Files.readString(
                FollowUpFixtures.DIR.resolve("needrestart/deleted-lib-tty.rc0.txt")));
        assertEquals(List.of("session root @ /dev/pts/0"), tty.items());
    }

    @Test
    void elog_warnAndErrorOnly_firstLineOfEach() throws Exception {
        Path elog = FollowUpFixtures.DIR.resolve("03-after-update/root/var/log/portage/elog");
        assertEquals(List.of(new Parse.Elog("WARN", "postinst",
                        "demo-daemon 1.6: the listen= syntax changed, check /etc/demo-daemon.conf")),
                Parse.elog(Files.readString(elog.resolve("net-misc:demo-daemon-1.6:20261202-150712.log")),
                        FollowUps.ELOG_TYPES));
        List<Parse.Elog> portage = Parse.elog(Files.readString(elog.resolve("sys-apps:portage-3.0.83:20261202-150655.log")),
                FollowUps.ELOG_TYPES);
        assertEquals(1, portage.size(), portage.toString());
        assertEquals("ERROR", portage.get(0).type());
        // LOG lines are not for the admin's attention
        assertEquals(List.of(), Parse.elog("LOG: postinst\ndemo-daemon 1.6 installed.\n", Set.of("WARN", "ERROR")));
    }

    @Test
    void configFiles_asPortageFindsThem_maskAndIgnoredNames() throws Exception {
        Path root = tmp.resolve("root");
        FollowUpFixtures.lay("03-after-update", root, Instant.now());
        assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf"), ConfigFiles.find(root, List.of("/etc"), List.of("/etc/env.d")));
        // the mask as the file itself, or a directory above it as long as the protect entry: not protected
        assertEquals(List.of(), ConfigFiles.find(root, List.of("/etc"), List.of("/etc/demo-daemon.conf")));
        assertEquals(List.of(), ConfigFiles.find(root, List.of("/etc"), List.of("/etc")));
        // a longer protect entry wins over a shorter mask
        Files.createDirectories(root.resolve("etc/env.d/sub"));
        Files.writeString(root.resolve("etc/env.d/sub/._cfg0001_x"), "");
        assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf"), ConfigFiles.find(root, List.of("/etc"), List.of("/etc/env.d")));
        assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf", "/etc/env.d/sub/._cfg0001_x"),
                ConfigFiles.find(root, List.of("/etc", "/etc/env.d/sub"), List.of("/etc/env.d")));
        // hidden directories are skipped; editor and .bak copies are not candidates; a protected file entry
        Files.createDirectories(root.resolve("etc/.git"));
        Files.writeString(root.resolve("etc/.git/._cfg0000_config"), "");
        Files.writeString(root.resolve("etc/._cfg0002_demo-daemon.conf~"), "");
        Files.writeString(root.resolve("etc/._cfg0003_demo-daemon.conf.BAK"), "");
        Files.createDirectories(root.resolve("usr/share/demo"));
        Files.writeString(root.resolve("usr/share/demo/demo.conf"), "");
        Files.writeString(root.resolve("usr/share/demo/._cfg0000_demo.conf"), "");
        Files.writeString(root.resolve("usr/share/demo/._cfg0000_other.conf"), "");
        assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf", "/usr/share/demo/._cfg0000_demo.conf"),
                ConfigFiles.find(root, List.of("/etc", "/usr/share/demo/demo.conf"), List.of("/etc/env.d")));
        // a protected directory that is a symbolic link is searched, and named by its path on the slave
        Path linked = tmp.resolve("elsewhere");
        Files.move(root.resolve("usr/share/demo"), linked);
        Files.createSymbolicLink(root.resolve("usr/share/demo"), linked);
        assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf", "/usr/share/demo/._cfg0000_demo.conf",
                        "/usr/share/demo/._cfg0000_other.conf"),
                ConfigFiles.find(root, List.of("/etc", "/usr/share/demo"), List.of("/etc/env.d")));
    }

    @Test
    void collect_afterTheUpdate_everythingTheRunLeft() throws Exception {
        Path root = tmp.resolve("root");
        Instant before = Instant.now().minusSeconds(3600);
        FollowUpFixtures.lay("02-after-portage-first", root, before);
        Path kase = Files.writeString(tmp.resolve("case"), "03-after-update\n");
        FollowUps collector = FollowUpFixtures.collector(root, kase, Map.of());
        ElogMark mark = collector.elogMark();
        // what the run wrote (the update of record 45), one second after the run before it wrote its own
        FollowUpFixtures.lay("03-after-update", root, before.plusSeconds(1));

        FollowUp f = collector.collect("run-45", mark, Item.of(List.of(), "the run's plan"));

        assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf"), f.configFiles().items());
        assertEquals("CONFIG_PROTECT from portageq", f.configFiles().detail());
        assertEquals(List.of("/usr/lib64/libdemo.so.1 (dev-libs/libdemo-1.3.0)"), f.preservedLibs().items());
        assertEquals(List.of("gentoo: 2026-12-02-demo-daemon-config"), f.news().items());
        assertEquals(List.of("202611-01"), f.glsa().items());
        assertEquals(1, f.orphans().count());
        assertEquals(List.of("app-misc/demo-legacy-1.0"), f.orphans().items());
        assertEquals(0, f.restart().count(), "needrestart's plain state: " + f.restart());
        // only what this run wrote: demo-daemon-1.6's warning, not portage's error of the run before
        assertEquals(List.of("WARN net-misc/demo-daemon-1.6 (postinst): demo-daemon 1.6: the listen= syntax changed, "
                + "check /etc/demo-daemon.conf"), f.elog().items());
        assertEquals(List.of(
                "1 GLSA advisory affects this slave (glsa-check -p affected): 202611-01",
                "1 preserved library still in use (emerge @preserved-rebuild): /usr/lib64/libdemo.so.1 (dev-libs/libdemo-1.3.0)",
                "1 config file waits for a merge (dispatch-conf or etc-update): /etc/._cfg0000_demo-daemon.conf",
                "1 unread news item (eselect news read): gentoo: 2026-12-02-demo-daemon-config",
                "1 warning or error from the run's packages (read them before the next run): WARN net-misc/demo-daemon-1.6"
                        + " (postinst): demo-daemon 1.6: the listen= syntax changed, check /etc/demo-daemon.conf",
                "1 package no longer needed (emerge --ask --depclean, after a look): app-misc/demo-legacy-1.0"),
                f.attention());
        assertEquals(List.of(), f.unknown());
    }

    @Test
    void collect_cleanSlave_nothingNeedsYou() throws Exception {
        Path root = tmp.resolve("root");
        FollowUpFixtures.lay("00-clean", root, Instant.now().minusSeconds(3600));
        Path kase = Files.writeString(tmp.resolve("case"), "00-clean\n");
        FollowUps collector = FollowUpFixtures.collector(root, kase, Map.of());
        FollowUp f = collector.collect("run", collector.elogMark(), Item.of(List.of(), "the run's plan"));
        assertEquals(List.of(), f.attention(), f.toString());
        f.items().forEach((kind, item) -> assertEquals(Item.Status.OK, item.status(), kind + ": " + item));
    }

    @Test
    void missingFailingAndHangingTools_areNamed_andTheRestIsStillCollected() throws Exception {
        Path root = tmp.resolve("root");
        FollowUpFixtures.lay("03-after-update", root, Instant.now());
        Path kase = Files.writeString(tmp.resolve("case"), "03-after-update\n");
        Path hang = Files.writeString(tmp.resolve("hang.sh"), "#!/bin/sh\nexec sleep 60\n");
        hang.toFile().setExecutable(true);
        Path fail = Files.writeString(tmp.resolve("fail.sh"), "#!/bin/sh\necho 'glsa-check: cannot read the tree' >&2\nexit 2\n");
        fail.toFile().setExecutable(true);
        FollowUp f = FollowUpFixtures.collector(root, kase, Map.of(
                "binhost.followup.needrestart-command", tmp.resolve("no-such-needrestart").toString(),
                "binhost.followup.glsa-check-command", fail.toString(),
                "binhost.followup.portageq-command", hang.toString(),
                "binhost.followup.tool-deadline", "1s")).collect("run", null, Item.off("no plan"));

        assertEquals(Item.Status.NOT_INSTALLED, f.restart().status());
        assertEquals(Item.Status.FAILED, f.glsa().status());
        assertTrue(f.glsa().detail().contains("exited 2") && f.glsa().detail().contains("cannot read the tree"),
                f.glsa().detail());
        assertEquals(Item.Status.FAILED, f.preservedLibs().status());
        assertTrue(f.preservedLibs().detail().contains("timed out"), f.preservedLibs().detail());
        // without portageq's answer, Portage's defaults still find the file
        assertEquals(List.of("/etc/._cfg0000_demo-daemon.conf"), f.configFiles().items());
        assertTrue(f.configFiles().detail().startsWith("CONFIG_PROTECT from make.conf and Portage's defaults"),
                f.configFiles().detail());
        assertEquals(1, f.news().count());
        assertEquals(List.of("restart: not-installed (" + tmp.resolve("no-such-needrestart") + " not found)",
                "glsa: failed (" + f.glsa().detail() + ")", "preserved-libs: failed (" + f.preservedLibs().detail() + ")"),
                List.of(f.unknown().get(2), f.unknown().get(0), f.unknown().get(1)));
    }

    @Test
    void holds_nameWhatHoldsTheRun() throws Exception {
        Path root = tmp.resolve("root");
        FollowUpFixtures.lay("03-after-update", root, Instant.now());
        Path kase = Files.writeString(tmp.resolve("case"), "03-after-update\n");
        FollowUps on = FollowUpFixtures.collector(root, kase, Map.of("binhost.followup.hold-on-unread-news", "true",
                "binhost.followup.hold-on-config-files", "0"));
        var holds = FollowUpHolds.of(on.config(), on);
        assertEquals(List.of("no-unread-news", "config-files-merged"), holds.stream().map(h -> h.name()).toList());
        var news = holds.get(0).check();
        assertFalse(news.ok());
        assertEquals("1 unread news item (eselect news read): gentoo: 2026-12-02-demo-daemon-config", news.detail());
        var files = holds.get(1).check();
        assertFalse(files.ok());
        assertTrue(files.detail().endsWith("more than binhost.followup.hold-on-config-files=0: /etc/._cfg0000_demo-daemon.conf"),
                files.detail());
        FollowUps one = FollowUpFixtures.collector(root, kase, Map.of("binhost.followup.hold-on-config-files", "1"));
        var holds1 = FollowUpHolds.of(one.config(), one);
        assertEquals(1, holds1.size(), "news hold is off by default");
        assertTrue(holds1.get(0).check().ok(), holds1.get(0).check().detail());
        assertEquals(List.of(), FollowUpHolds.of(FollowUpFixtures.config(Map.of()), on), "both holds off by default");
    }
}
