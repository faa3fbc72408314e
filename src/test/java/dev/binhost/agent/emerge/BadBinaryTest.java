package dev.binhost.agent.emerge;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Binaries from an HTTP binhost that fail their checks, on the real Portage's runs (records 60-70): the run
 * fails naming the package and why, from emerge.log (the package started and never completed) and the terminal
 * (the only place the reason is written).
 */
class BadBinaryTest {
    @TempDir
    Path eroot;

    private MergeReport replay(Recorded rec) {
        return rec.report(eroot, EmergePlan.parse(Recorded.of("60-").outputText()));
    }

    @Test
    void untrustedKey_theFirstBinaryFailsItsSignatureCheck_nothingMerged_namedWithGnupgsSummary() {
        MergeReport r = replay(Recorded.of("65-"));
        assertEquals(MergeReport.Result.FAILED, r.result());
        assertEquals(List.of("sys-apps/demo-baselayout-2.14"), r.failed());
        assertEquals(EmergeProgress.SIGNATURE_CHECK, r.failedPhase().orElseThrow());
        assertEquals(0, r.installed().size());
        assertTrue(r.message().startsWith("sys-apps/demo-baselayout-2.14 failed in the binary signature check"
                + " (binpkg signed with at least one unknown key) (exit 1)"), r.message());
        assertEquals("failed in the binary signature check (binpkg signed with at least one unknown key)",
                r.notInstalled().get(0).why());
    }

    @Test
    void binpkgLongerThanTheIndexSays_failsItsDigestCheck_afterNineMerged_sizesNamed() {
        MergeReport r = replay(Recorded.of("66-"));
        assertEquals(MergeReport.Result.FAILED, r.result());
        assertEquals(List.of("app-misc/demo-cli-2.0"), r.failed());
        assertEquals(EmergeProgress.DIGEST_CHECK, r.failedPhase().orElseThrow());
        assertEquals(9, r.installedBinary());
        assertTrue(r.message().startsWith("app-misc/demo-cli-2.0 failed in the binary digest check (its size does"
                + " not match the binhost's Packages index: got 20487, expected 20480) (exit 1) after merged 9 of 11"),
                r.message());
        assertTrue(r.notInstalled().stream().anyMatch(n -> n.cpv().equals("net-misc/demo-daemon-1.5")
                && n.why().startsWith("not reached: emerge stopped after app-misc/demo-cli-2.0")), r.notInstalled()
                .toString());
    }

    @Test
    void theSameDigestLinesForADistfile_areASourceFetch_notABadBinary() {
        // Portage prints "Digest verification failed:" for a distfile as for a binpkg; only the path differs
        String binary = Recorded.of("66-").outputText();
        String source = binary.replace("/var/cache/binhost/binhost-agent/app-misc/demo-cli/demo-cli-2.0-1.gpkg.tar.partial",
                "/var/cache/distfiles/demo-cli-2.0.tar.gz");
        assertTrue(EmergeProgress.of(binary).badBinary());
        EmergeProgress.Snapshot s = EmergeProgress.of(source);
        assertFalse(s.badBinary(), s.toString());
        assertEquals("app-misc/demo-cli-2.0", s.failedPackage().orElseThrow());
    }

    @Test
    void oneByteChanged_sameSize_failsOnItsMd5() {
        MergeReport r = replay(Recorded.of("67-"));
        assertEquals(List.of("app-misc/demo-cli-2.0"), r.failed());
        assertEquals(EmergeProgress.DIGEST_CHECK, r.failedPhase().orElseThrow());
        assertTrue(r.message().contains("(its MD5 does not match the binhost's Packages index: got"
                + " 02bdc2dca4c01d14c10391dbf8a2c494, expected f209dc2d1f8121f2f143f847351c48c7)"), r.message());
    }

    @Test
    void signedBinariesThatVerify_areMergedAsBinaries_noBadBinary() {
        MergeReport r = replay(Recorded.of("61-"));
        assertEquals(MergeReport.Result.SUCCESS, r.result(), r.message());
        assertEquals(11, r.installedBinary());
        assertEquals(0, r.installedCompiled());
        assertFalse(EmergeProgress.of(Recorded.of("61-").outputText()).badBinary());
    }

    @Test
    void noOtherRecordedRun_isTakenForABadBinary() throws IOException {
        List<String> bad;
        try (Stream<Path> s = Files.list(Recorded.DIR)) {
            bad = s.filter(Files::isDirectory).filter(d -> d.getFileName().toString().matches("\\d\\d-.*"))
                    .map(Recorded::new).filter(r -> EmergeProgress.of(r.outputText()).badBinary())
                    .map(r -> r.dir().getFileName().toString()).sorted().toList();
        }
        // 77 is a prefetch (--fetchonly) meeting the same too-long binpkg as 66
        assertEquals(List.of("65-http-untrusted-key", "66-http-size-mismatch", "67-http-digest-mismatch",
                "77-http-prefetch-size-mismatch"), bad);
    }

    @Test
    void theRemoteBinaries_areKnownFromTheirFlag() {
        EmergePlan remote = EmergePlan.parse(Recorded.of("60-").outputText());
        assertEquals(11, remote.packages().stream().filter(PlannedPackage::remote).count());
        EmergePlan local = EmergePlan.parse(Recorded.of("44-").outputText());
        assertTrue(local.packages().stream().anyMatch(p -> p.kind() == PlannedPackage.Kind.BINARY), "44 has binaries");
        assertEquals(0, local.packages().stream().filter(PlannedPackage::remote).count());
    }
}
