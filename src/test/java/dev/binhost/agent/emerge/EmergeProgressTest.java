package dev.binhost.agent.emerge;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The terminal tracker (live progress in status; the failed phase where no record has it) on every real run's
 * output. What a run merged is judged from Portage's records (MergeReportTest), not from this.
 */
class EmergeProgressTest {

    @TestFactory
    List<DynamicTest> everyRealRun_aSuccessCompletesWhatItAnnounced_aFailureNamesNoPackageOrOne() {
        return Fixtures.index().stream().filter(e -> !e.pretend()).map(e -> DynamicTest.dynamicTest(e.file(), () -> {
            EmergeProgress.Snapshot p = EmergeProgress.of(e.text());
            if (e.exitCode() == 0) {
                assertEquals(p.total(), p.completed(), "every announced package completed");
                assertTrue(p.failedPackage().isEmpty(), p.toString());
            }
        })).toList();
    }

    @Test
    void failingBuild_namesPackageAndPhase_plainColourAndNocolor() {
        for (String f : List.of("042-", "043-", "044-")) {
            EmergeProgress.Snapshot p = EmergeProgress.of(Fixtures.entry(f).text());
            assertEquals("app-misc/demo-broken-1.0", p.failedPackage().orElseThrow(), f);
            assertEquals("compile", p.failedPhase().orElseThrow(), f);
            assertEquals(5, p.completedBinary(), f);
            assertEquals(0, p.completedCompiled(), f);
        }
    }

    @Test
    void fetchFailure_namesPackageAndFetchPhase() {
        EmergeProgress.Snapshot p = EmergeProgress.of(Fixtures.entry("047-").text());
        assertEquals("app-misc/demo-broken-1.0", p.failedPackage().orElseThrow());
        assertEquals("fetch", p.failedPhase().orElseThrow());
    }

    @Test
    void mixedMerge_countsBinaryAndCompiledInstalls() {
        EmergeProgress.Snapshot p = EmergeProgress.of(Fixtures.entry("034-").text());
        assertEquals(7, p.completedBinary());
        assertEquals(3, p.completedCompiled());
    }

    @Test
    void halfWayThroughMixedMerge_showsCurrentPackageAndCounts() {
        String text = Ansi.strip(Fixtures.entry("035-").text());
        String half = text.substring(0, text.indexOf(">>> Emerging (7 of 10)") + 60);
        EmergeProgress.Snapshot p = EmergeProgress.of(half);
        assertEquals(7, p.index());
        assertEquals(10, p.total());
        assertEquals("dev-libs/libdemo-1.2.3", p.current().orElseThrow());
        assertEquals(6, p.completedBinary());
        assertEquals("(7 of 10) dev-libs/libdemo-1.2.3", p.display());
    }
}
