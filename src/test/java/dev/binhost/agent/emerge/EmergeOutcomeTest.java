package dev.binhost.agent.emerge;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmergeOutcomeTest {

    @TestFactory
    List<DynamicTest> outcome_everyRealRun_exitCodeAndProgressAgree() {
        return Fixtures.index().stream().filter(e -> !e.pretend()).map(e -> DynamicTest.dynamicTest(e.file(), () -> {
            EmergeOutcome o = EmergeOutcome.of(e.text(), e.exitCode(), false);
            assertEquals(e.exitCode() == 0 ? EmergeOutcome.Result.SUCCESS : EmergeOutcome.Result.FAILED, o.result(),
                    o.message());
            EmergeProgress.Snapshot p = EmergeProgress.of(e.text());
            if (e.exitCode() == 0) {
                assertEquals(p.total(), p.completed(), "every announced package completed");
            }
        })).toList();
    }

    @Test
    void outcome_failingBuild_namesPackagePhaseAndExitCode_plainColourAndNocolor() {
        for (String f : List.of("042-", "043-", "044-")) {
            EmergeOutcome o = EmergeOutcome.of(Fixtures.entry(f).text(), 1, false);
            assertEquals(EmergeOutcome.Result.FAILED, o.result());
            assertEquals("app-misc/demo-broken-1.0", o.failedPackage().orElseThrow());
            assertEquals("compile", o.failedPhase().orElseThrow());
            assertEquals(1, o.exitCode());
            assertEquals(5, o.installedBinary(), f);
            assertEquals(0, o.installedCompiled(), f);
        }
    }

    @Test
    void outcome_fetchFailure_namesPackageAndFetchPhase() {
        EmergeOutcome o = EmergeOutcome.of(Fixtures.entry("047-").text(), 1, false);
        assertEquals("app-misc/demo-broken-1.0", o.failedPackage().orElseThrow());
        assertEquals("fetch", o.failedPhase().orElseThrow());
    }

    @Test
    void outcome_mixedMerge_countsBinaryAndCompiledInstalls() {
        EmergeOutcome o = EmergeOutcome.of(Fixtures.entry("034-").text(), 0, false);
        assertEquals(EmergeOutcome.Result.SUCCESS, o.result());
        assertEquals(7, o.installedBinary());
        assertEquals(3, o.installedCompiled());
    }

    @Test
    void outcome_hardBlockerRealRun_failsWithTheBlockerNamed() {
        EmergeOutcome o = EmergeOutcome.of(Fixtures.entry("059-").text(), 1, false);
        assertEquals(EmergeOutcome.Result.FAILED, o.result());
        assertTrue(o.message().contains("cannot be"), o.message());
    }

    @Test
    void progress_halfWayThroughMixedMerge_showsCurrentPackageAndCounts() {
        String text = Ansi.strip(Fixtures.entry("035-").text());
        String half = text.substring(0, text.indexOf(">>> Emerging (7 of 10)") + 60);
        EmergeProgress.Snapshot p = EmergeProgress.of(half);
        assertEquals(7, p.index());
        assertEquals(10, p.total());
        assertEquals("dev-libs/libdemo-1.2.3", p.current().orElseThrow());
        assertEquals(6, p.completedBinary());
        assertEquals("(7 of 10) dev-libs/libdemo-1.2.3", p.display());
    }

    @Test
    void outcome_timedOut_saysWhichPackageWasRunning() {
        String text = Fixtures.entry("034-").text();
        String part = text.substring(0, text.indexOf(">>> Emerging (8 of 10)") + 60);
        EmergeOutcome o = EmergeOutcome.of(part, 143, true);
        assertEquals(EmergeOutcome.Result.TIMED_OUT, o.result());
        assertEquals("app-editors/demo-edit-0.9", o.failedPackage().orElseThrow());
    }
}
