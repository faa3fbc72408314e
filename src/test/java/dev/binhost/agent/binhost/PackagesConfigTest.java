package dev.binhost.agent.binhost;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PackagesConfigTest {
    @Test
    void nfsByDefault_withNothingToCheck() {
        PackagesConfig c = HttpBinhosts.config();
        assertEquals(PackagesConfig.Transport.NFS, c.transport());
        assertEquals(List.of(), c.problems());
    }

    @Test
    void http_needsTheBinhostUrl_andItsIndexIsBesideIt() {
        assertTrue(String.join("\n", HttpBinhosts.config("binhost.packages.transport", "http").problems())
                .contains("binhost.packages.url: missing"));
        PackagesConfig c = HttpBinhosts.config("binhost.packages.transport", "http",
                "binhost.packages.url", "http://master.lan/binpkgs/");
        assertEquals(List.of(), c.problems());
        assertEquals(URI.create("http://master.lan/binpkgs/Packages"), c.indexUrl());
        assertEquals("/etc/portage/binrepos.conf/binhost-agent.conf", c.ownEntry().toString());
    }

    @Test
    void badValues_areNamed_andAPasswordIsNotShown() {
        String p = String.join("\n", HttpBinhosts.config("binhost.packages.transport", "http",
                "binhost.packages.url", "ftp://u:s3cret@master/binpkgs", "binhost.packages.repo-name", "my repo",
                "binhost.packages.prefetch-cron", "every night").problems());
        assertTrue(p.contains("binhost.packages.url: must be an http:// or https:// URL"), p);
        assertFalse(p.contains("s3cret"), p);
        assertTrue(p.contains("binhost.packages.repo-name"), p);
        assertTrue(p.contains("binhost.packages.prefetch-cron: not a cron expression"), p);
        String index = String.join("\n", HttpBinhosts.config("binhost.packages.transport", "http",
                "binhost.packages.url", "http://master/binpkgs/Packages").problems());
        assertTrue(index.contains("the directory that holds Packages"), index);
        String nfs = String.join("\n", HttpBinhosts.config("binhost.packages.prefetch-cron", "0 0 2 * * ?").problems());
        assertTrue(nfs.contains("downloads come only from an http binhost"), nfs);
    }

    @Test
    void prefetchAndBuildLocally_acceptedForHttp_refusedForNfs_badDeadlineAndRelativeDirNamed() {
        assertEquals(List.of(), HttpBinhosts.config("binhost.packages.transport", "http",
                "binhost.packages.url", "http://master.lan/binpkgs", "binhost.packages.prefetch-cron", "0 0 2 * * ?",
                "binhost.packages.on-bad-binary", "build-locally").problems());
        String nfs = String.join("\n", HttpBinhosts.config("binhost.packages.on-bad-binary", "build-locally").problems());
        assertTrue(nfs.contains("binhost.packages.on-bad-binary: build-locally is for binaries fetched from an http"
                + " binhost"), nfs);
        String bad = String.join("\n", HttpBinhosts.config("binhost.packages.transport", "http",
                "binhost.packages.url", "http://master.lan/binpkgs", "binhost.packages.prefetch-cron", "0 0 2 * * ?",
                "binhost.packages.prefetch-deadline", "0s", "binhost.packages.download-dir", "cache/binhost").problems());
        assertTrue(bad.contains("binhost.packages.prefetch-deadline: must be positive"), bad);
        assertTrue(bad.contains("binhost.packages.download-dir: must be an absolute path, was 'cache/binhost'"), bad);
    }
}
