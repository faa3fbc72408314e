package dev.binhost.agent.emerge;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmergePlanTest {

    private static EmergePlan plan(String prefix) {
        return EmergePlan.parse(Fixtures.entry(prefix).text());
    }

    private static Map<String, PlannedPackage> byAtom(EmergePlan plan) {
        return plan.packages().stream().collect(Collectors.toMap(PlannedPackage::atom, p -> p, (a, b) -> a));
    }

    @TestFactory
    List<DynamicTest> parse_everyFixture_plainAndColourGiveTheSamePlan_andCountsMatchTheTotalsLine() {
        List<DynamicTest> tests = new ArrayList<>();
        Map<String, List<Fixtures.Entry>> byScenario = Fixtures.index().stream()
                .collect(Collectors.groupingBy(Fixtures.Entry::scenario));
        for (var scenario : byScenario.entrySet()) {
            tests.add(DynamicTest.dynamicTest(scenario.getKey(), () -> {
                EmergePlan first = null;
                for (Fixtures.Entry e : scenario.getValue()) {
                    EmergePlan p = EmergePlan.parse(e.text());
                    if (first == null) {
                        first = p;
                    } else {
                        assertEquals(first, p, e.file() + " differs from " + scenario.getValue().get(0).file());
                    }
                    p.totals().ifPresent(t -> {
                        assertEquals(t.packages(), p.installCount(), e.file() + ": totals vs listed packages");
                        assertEquals(t.breakdown().getOrDefault("binaries", t.breakdown().getOrDefault("binary", 0)),
                                p.binaries().size(), e.file() + ": binaries in the totals line");
                    });
                    for (PlannedPackage pkg : p.compiled()) {
                        assertTrue(pkg.reason().isPresent(), e.file() + ": no reason for " + pkg.cpv());
                    }
                    for (PlannedPackage pkg : p.packages()) {
                        assertFalse(pkg.version().isEmpty(), e.file() + ": no version parsed for " + pkg.atom());
                    }
                }
            }));
        }
        assertEquals(101, Fixtures.index().size(), "every fixture of index.tsv is covered");
        return tests;
    }

    @Test
    void parse_allBinarySlave_elevenBinariesWithBuildIdSlotRepoAndUse() {
        EmergePlan p = plan("016-");
        assertEquals(11, p.binaries().size());
        assertEquals(0, p.compiled().size());
        PlannedPackage ssl = byAtom(p).get("dev-libs/demossl");
        assertEquals("3.0.1", ssl.version());
        assertEquals(1, ssl.buildId().getAsInt());
        assertEquals("0/3", ssl.slot().orElseThrow());
        assertEquals("gentoo", ssl.repository().orElseThrow());
        assertEquals("N", ssl.flags());
        assertEquals(List.of(new UseFlag("asm", true, false, false, false), new UseFlag("test", false, false, false,
                false)), ssl.use());
        assertEquals("harness-overlay", byAtom(p).get("app-misc/demo-overlay-tool").repository().orElseThrow());
        assertEquals(Map.of("new", 11, "binaries", 11), p.totals().orElseThrow().breakdown());
        assertTrue(p.notices().isEmpty());
    }

    @Test
    void parse_mixedSlave_threeCompiledBecauseUseDiffers_namingTheFlags() {
        EmergePlan p = plan("029-");
        assertEquals(7, p.binaries().size());
        assertEquals(3, p.compiled().size());
        CompileReason edit = byAtom(p).get("app-editors/demo-edit").reason().orElseThrow();
        assertEquals(CompileReason.Kind.USE_DIFFERS, edit.kind());
        assertEquals(List.of("X", "gtk"), edit.binaryFlags());
        assertEquals(List.of("-X", "-gtk"), edit.flags());
        CompileReason lib = byAtom(p).get("dev-libs/libdemo").reason().orElseThrow();
        assertEquals(List.of("-static-libs"), lib.binaryFlags());
        assertEquals(List.of("static-libs"), lib.flags());
        assertEquals(List.of("-systemd"), byAtom(p).get("net-misc/demo-daemon").reason().orElseThrow().flags());
        assertEquals("ignored-binaries", p.notices().get(0).kind());
        assertTrue(p.errors().isEmpty());
    }

    @Test
    void parse_chostSlave_everythingCompiled_reasonSaysNoBinaryWasUsable() {
        EmergePlan p = plan("039-");
        assertEquals(0, p.binaries().size());
        assertEquals(11, p.compiled().size());
        for (PlannedPackage pkg : p.compiled()) {
            assertEquals(CompileReason.Kind.NO_USABLE_BINARIES, pkg.reason().orElseThrow().kind());
            assertTrue(pkg.reason().orElseThrow().text().contains("CHOST"));
        }
    }

    @Test
    void parse_changedUse_rebuildMarkedChangedFlag() {
        PlannedPackage cli = plan("049-").packages().get(0);
        assertEquals(PlannedPackage.Kind.EBUILD, cli.kind());
        assertEquals("R", cli.flags());
        assertEquals(new UseFlag("debug", true, true, false, false), cli.use().get(0));
        assertEquals(List.of("debug"), cli.reason().orElseThrow().flags());

        PlannedPackage back = plan("053-").packages().get(0);
        assertEquals(PlannedPackage.Kind.BINARY, back.kind());
        assertEquals(new UseFlag("debug", false, true, false, false), back.use().get(1));
    }

    @Test
    void parse_mixedUpdate_previousVersionAndSlotRebuildFlags() {
        EmergePlan p = plan("116-");
        PlannedPackage lib = byAtom(p).get("dev-libs/libdemo");
        assertEquals("rU", lib.flags());
        assertEquals("1.3.0", lib.version());
        assertEquals("1.2.3:0/1::gentoo", lib.previous().orElseThrow());
        assertEquals(CompileReason.Kind.USE_DIFFERS, lib.reason().orElseThrow().kind());
        PlannedPackage cli = byAtom(p).get("app-misc/demo-cli");
        assertEquals(PlannedPackage.Kind.BINARY, cli.kind());
        assertEquals("rR", cli.flags());
        assertEquals(2, cli.buildId().getAsInt());
        assertEquals(Map.of("upgrades", 2, "reinstall", 1, "binary", 1), p.totals().orElseThrow().breakdown());
        assertTrue(p.notices().stream().anyMatch(n -> n.kind().equals("rebuilds")));
    }

    @Test
    void parse_hardBlocker_blockerUnsatisfiedAndErrorNotice() {
        EmergePlan p = plan("057-");
        assertEquals(1, p.blockers().size());
        assertTrue(p.hasUnsatisfiedHardBlocker());
        assertEquals("app-misc/demo-legacy", p.blockers().get(0).atom());
        assertEquals("1 block (1 unsatisfied)", p.conflict().orElseThrow());
        assertEquals("blocked", p.errors().get(0).kind());
    }

    @Test
    void parse_softBlocker_uninstallLineAndSatisfiedSoftBlocker() {
        EmergePlan p = plan("090-");
        assertEquals(PlannedPackage.Kind.UNINSTALL, p.packages().get(1).kind());
        assertEquals("app-misc/demo-legacy", p.packages().get(1).atom());
        assertFalse(p.hasUnsatisfiedHardBlocker());
        assertTrue(p.blockers().get(0).satisfied());
        assertEquals(1, p.installCount());
    }

    @Test
    void parse_worldProblems_nothingListed_warningsNamed() {
        EmergePlan missing = plan("065-");
        assertTrue(missing.nothingToDo());
        assertEquals(List.of("world-file", "masked-or-missing"),
                missing.notices().stream().map(EmergePlan.Notice::kind).toList());
        assertTrue(missing.notices().get(1).lines().contains("app-misc/demo-orphan"));
        assertEquals("skipped-updates", plan("071-").notices().get(0).kind());
    }

    @Test
    void parse_argumentErrors_eachNamedAsError() {
        assertEquals("no-ebuilds", plan("075-").errors().get(0).kind());
        assertEquals("slot-conflict", plan("077-").errors().get(0).kind());
        assertEquals("masked", plan("079-").errors().get(0).kind());
        assertEquals("masked", plan("081-").errors().get(0).kind());
        assertEquals("no-ebuilds", plan("083-").errors().get(0).kind());
        assertEquals("use-changes-needed", plan("085-").errors().get(0).kind());
    }

    @Test
    void parse_nothingToDoAndQuiet_emptyPlans() {
        assertTrue(plan("022-").nothingToDo());
        assertEquals(0, plan("022-").totals().orElseThrow().packages());
        assertTrue(plan("024-").nothingToDo());
        assertTrue(plan("026-").nothingToDo());
        assertTrue(plan("026-").totals().isEmpty());
    }

    @Test
    void parse_useFlagMarkers_forcedToggledChanged() {
        assertEquals(new UseFlag("python3_12", true, false, false, true), UseFlag.parse("(python3_12)"));
        assertEquals(new UseFlag("foo", false, true, true, false), UseFlag.parse("-foo%*"));
        assertEquals(new UseFlag("bar", false, false, false, true), UseFlag.parse("(-bar)"));
        EmergePlan p = EmergePlan.parse("[ebuild   R    ] dev-lang/demo-1.0::gentoo  USE=\"ssl%*\" "
                + "PYTHON_TARGETS=\"python3_12 -python3_11%\" 1,234 KiB\n");
        PlannedPackage pkg = p.packages().get(0);
        assertEquals(List.of("USE", "PYTHON_TARGETS"), List.copyOf(pkg.variables().keySet()));
        assertTrue(pkg.variables().get("PYTHON_TARGETS").get(1).addedOrRemoved());
        assertEquals(1234, pkg.sizeKiB().getAsLong());
    }
}
