package dev.binhost.agent.mount;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MakeConfTest {
    @Test
    void load_seedSlaveDirectory_appliesFilesInOrderAndExpandsFromEarlierFiles() throws Exception {
        Map<String, String> vars = MakeConf.load(Fixtures.path("make.conf/seed-slave/make.conf"));
        assertEquals("/usr/portage/distfiles", vars.get("DISTDIR"));
        assertEquals("/usr/portage/packages", vars.get("PKGDIR"));
        assertEquals("parallel-fetch userfetch nostrip binpkg-logs", vars.get("FEATURES"));
        assertEquals("amdgpu radeonsi", vars.get("VIDEO_CARDS"));
        assertTrue(vars.get("USE").startsWith("3dnow 3dnowext cleartype"), vars.get("USE"));
        assertTrue(vars.get("USE").endsWith("bluetooth pm-utils upower wireless -3dnow -3dnowext -consolekit elogind"));
        assertTrue(vars.get("EMERGE_DEFAULT_OPTS").contains("'sys-kernel/*-sources games-simulation/flightgear-data'"));
    }

    @Test
    void files_directory_skipsEditorBackupsAndHiddenFiles() throws Exception {
        List<Path> files = MakeConf.files(Fixtures.path("make.conf/seed-slave/make.conf"));
        assertEquals(List.of("01master", "02slave"), files.stream().map(p -> p.getFileName().toString()).toList());
        assertEquals("/var/cache/distfiles-local",
                MakeConf.load(Fixtures.path("make.conf/fixed-slave/make.conf")).get("DISTDIR"));
    }

    @Test
    void load_singleFile_handlesUnquotedCommentsContinuationsAndEscapes() throws Exception {
        Map<String, String> vars = MakeConf.load(Fixtures.path("make.conf/single-file.conf"));
        assertEquals("/var/cache/binpkgs", vars.get("PKGDIR"));
        assertEquals("/var/cache/distfiles", vars.get("DISTDIR"));
        assertEquals("-O2 -pipe", vars.get("CFLAGS"));
        assertEquals("-O2 -pipe -g0", vars.get("CXXFLAGS"));
        assertEquals("getbinpkg  binpkg-logs", vars.get("FEATURES"));
        assertEquals("a \"b\" $c", vars.get("QUOTED"));
    }

    @Test
    void load_missingPath_givesNoVariables() throws Exception {
        assertTrue(MakeConf.load(Path.of("/nonexistent/make.conf")).isEmpty());
    }

    @Test
    void parse_singleQuotes_doNotExpand() {
        assertEquals("${X}/a", MakeConf.parse("X=1\nY='${X}/a'\n", Map.of()).get("Y"));
        assertEquals("1/a", MakeConf.parse("X=1\nY=${X}/a\n", Map.of()).get("Y"));
    }
}
