package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunHistory;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Not for CI: the agent's real {@link UpdateRunner} against the REAL Portage of the harness (/work/shared/harness),
 * one scenario after another from a restored host state, and what the agent recorded set beside what Portage's own
 * records say: the {@code /var/db/pkg} entries above the COUNTER the run started from (binary when that run's
 * emerge.log session has {@code Merging Binary} for it), the packages the session started and never completed,
 * and emerge's exit status (from the wrapper that ran it). Prints a markdown table (and writes it to
 * {@code BINHOST_TEST_HARNESS_TABLE_OUT} when set), then fails on every disagreement.
 *
 * <p>{@code BINHOST_TEST_HARNESS_TABLE}: the harness's sandbox root ({@code $WORK}, e.g. /tmp/portage-work), with the
 * distfile server running; {@code BINHOST_TEST_HARNESS_TABLE_ONLY}: comma-separated scenario numbers to run.
 * Hosts are staged by src/test/resources/harness/table-stage.sh.
 */
@EnabledIfEnvironmentVariable(named = "BINHOST_TEST_HARNESS_TABLE", matches = ".+")
class HarnessTableTest {
    private static final Path STAGE = Paths.get("src/test/resources/harness/table-stage.sh").toAbsolutePath();
    private static final Path WRAPPER = Paths.get("src/test/resources/harness/emerge-on-host.sh").toAbsolutePath();
    private static final String SEED = "--usepkg,--update,--deep,--changed-use,--with-bdeps,y,@world";

    @TempDir
    Path tmp;

    /** One row: a host staged one way, the agent configured one way, the outcome the brief expects. */
    record Scenario(int n, String title, String host, String stage, Map<String, String> config, RunOutcome expected) {
    }

    /** What Portage's records and the wrapper say the run did. */
    record Truth(List<String> binary, List<String> built, List<String> failed, List<Integer> exits, String lastExit) {
    }

    static List<Scenario> scenarios() {
        return List.of(
                new Scenario(1, "slave-mixed, seed args", "slave-mixed", "fresh-mixed", Map.of(), RunOutcome.SUCCESS),
                new Scenario(2, "slave-mixed, emerge-args + --jobs=2", "slave-mixed", "fresh-mixed",
                        Map.of("binhost.update.emerge-args", SEED + ",--jobs=2"), RunOutcome.SUCCESS),
                new Scenario(3, "slave-mixed, EMERGE_DEFAULT_OPTS=\"--jobs 3\"", "slave-mixed", "mixed-jobs3", Map.of(),
                        RunOutcome.SUCCESS),
                new Scenario(4, "slave-mixed, make.conf/02slave (--jobs 2 --load-average 2 --quiet-build y)",
                        "slave-mixed", "mixed-02slave", Map.of(), RunOutcome.SUCCESS),
                new Scenario(5, "slave-fail, emerge-args + --keep-going", "slave-fail", "fresh-fail",
                        Map.of("binhost.update.emerge-args", SEED + ",--keep-going"), RunOutcome.PARTIAL),
                new Scenario(6, "slave-fail, seed args", "slave-fail", "fresh-fail", Map.of(), RunOutcome.FAILED),
                new Scenario(7, "slave-mixed, binaries-only=usepkgonly", "slave-mixed", "fresh-mixed",
                        Map.of("binhost.update.binaries-only", "usepkgonly"), RunOutcome.PARTIAL),
                new Scenario(8, "slave-mixed merged, demo-cli-2.1 needs dev-libs/demo-vanished", "slave-mixed",
                        "mixed-dep-vanished", Map.of(), RunOutcome.BLOCKED),
                new Scenario(9, "slave-mixed, seed args, pretend-then-run", "slave-mixed", "fresh-mixed",
                        Map.of("binhost.update.resolution", "pretend-then-run"), RunOutcome.SUCCESS));
    }

    private static final List<String> rows = new ArrayList<>();
    private static final List<String> disagreements = new ArrayList<>();

    @Test
    void agentRecord_matchesPortagesRecords_everyScenario() throws Exception {
        Path work = Paths.get(System.getenv("BINHOST_TEST_HARNESS_TABLE"));
        String only = System.getenv().getOrDefault("BINHOST_TEST_HARNESS_TABLE_ONLY", "");
        Set<Integer> chosen = only.isBlank() ? Set.of()
                : Arrays.stream(only.split(",")).map(String::trim).map(Integer::valueOf).collect(Collectors.toSet());
        rows.add("| # | scenario | resolution | Portage: binary / built (new vdb entries) | Portage: failed | emerge exit | "
                + "agent outcome | agent binary / compiled | merge.notInstalled | pending | message | wall s | agrees |");
        rows.add("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        try {
            for (Scenario s : scenarios()) {
                if (chosen.isEmpty() || chosen.contains(s.n())) {
                    runOne(work, s);
                }
            }
        } finally {
            sh(STAGE + " cleanup");
            String table = String.join("\n", rows) + "\n";
            System.out.println("HARNESS TABLE\n" + table);
            String out = System.getenv("BINHOST_TEST_HARNESS_TABLE_OUT");
            if (out != null && !out.isBlank()) {
                Files.writeString(Path.of(out), table + (disagreements.isEmpty() ? ""
                        : "\nDisagreements:\n- " + String.join("\n- ", disagreements) + "\n"));
            }
        }
        assertTrue(disagreements.isEmpty(), String.join("\n", disagreements));
    }

    private void runOne(Path work, Scenario s) throws Exception {
        sh(STAGE + " " + s.stage());
        Path eroot = work.resolve("hosts").resolve(s.host()).resolve("rootfs");
        Path makeConf = work.resolve("hosts").resolve(s.host()).resolve("upper/etc/portage/make.conf");
        assertTrue(Files.exists(makeConf), "no make.conf at " + makeConf);
        long counterBefore = maxCounter(eroot);
        Path emergeLog = eroot.resolve("var/log/emerge.log");
        long logBefore = Files.exists(emergeLog) ? Files.size(emergeLog) : 0;
        Path calls = tmp.resolve(s.n() + "-calls.txt");

        StandIn bed = new StandIn(tmp.resolve("run-" + s.n()));
        bed.config.put("binhost.update.emerge-command", WRAPPER + "," + s.host());
        bed.config.put("binhost.update.eroot", eroot.toString());
        bed.config.put("binhost.update.make-conf", "chroot".equals(System.getenv("BINHOST_TEST_HARNESS_TABLE_MAKECONF"))
                ? makeConf.toString() : translatedEtc(work, s.host(), tmp.resolve("etc-" + s.n())).toString());
        bed.config.put("binhost.update.resolution", "one-pass");
        bed.config.put("binhost.update.plan-deadline", "5m");
        bed.config.put("binhost.update.run-deadline", "30m");
        bed.config.putAll(s.config());
        UpdateRunner runner = withCallsLog(bed, calls);
        RunRecord r = runner.run(UpdateRunner.Reason.TRIGGER, "harness-table");
        Duration wall = Duration.between(Instant.parse(r.startedAt()), Instant.parse(r.endedAt()));
        Truth t = truth(eroot, counterBefore, emergeLog, logBefore, calls);
        System.out.printf("HARNESS %d %s: %s%n%s%n", s.n(), s.title(), t, RunHistory.json(r));

        List<String> wrong = new ArrayList<>();
        if (r.outcome() != s.expected()) {
            wrong.add("outcome " + tag(r) + ", expected " + s.expected().tag());
        }
        boolean noMerge = r.merge() == null && t.binary().isEmpty() && t.built().isEmpty();
        if (!(noMerge && r.installedBinary() == null && r.installedCompiled() == null)) { // null: no merge made
            check(wrong, "installedBinary", t.binary().size(), r.installedBinary());
            check(wrong, "installedCompiled", t.built().size(), r.installedCompiled());
        }
        if (r.merge() != null) {
            check(wrong, "merge.binary", new TreeSet<>(t.binary()), new TreeSet<>(r.merge().binary()));
            check(wrong, "merge.built", new TreeSet<>(t.built()), new TreeSet<>(r.merge().built()));
            check(wrong, "merge.failed", new TreeSet<>(t.failed()), new TreeSet<>(r.merge().failed()));
        } else if (!t.exits().isEmpty() && !(t.binary().isEmpty() && t.built().isEmpty())) {
            wrong.add("no merge section although emerge installed packages");
        }
        if (r.exitCode() != null && !t.exits().isEmpty()
                && !r.exitCode().equals(t.exits().get(t.exits().size() - 1))) {
            wrong.add("exitCode " + r.exitCode() + ", emerge exited " + t.exits().get(t.exits().size() - 1));
        }
        String expectedResolution = s.config().getOrDefault("binhost.update.resolution", "one-pass");
        if (r.resolution() != null && !r.resolution().equals(expectedResolution)) {
            wrong.add("resolution " + r.resolution() + ", configured " + expectedResolution);
        }
        wrong.forEach(w -> disagreements.add("scenario " + s.n() + ": " + w));

        String missing = r.merge() == null || r.merge().notInstalled().isEmpty() ? "—"
                : r.merge().notInstalled().stream().map(m -> m.cpv() + " (" + m.why() + ")")
                        .collect(Collectors.joining("; "));
        rows.add(String.format("| %d | %s | %s | %d / %d | %s | %s | %s | %s / %s | %s | %d | %s | %.1f | %s |",
                s.n(), s.title(), r.resolution(), t.binary().size(), t.built().size(),
                t.failed().isEmpty() ? "—" : String.join(", ", t.failed()),
                t.exits().stream().map(String::valueOf).collect(Collectors.joining(", ")) + " " + t.lastExit(),
                tag(r), r.installedBinary(), r.installedCompiled(), cell(missing), runner.pending(), cell(r.message()),
                wall.toMillis() / 1000.0, wrong.isEmpty() ? "yes" : "**no**: " + cell(String.join("; ", wrong))));
    }

    /**
     * The host's /etc/portage as the agent on a real slave would read it: the same files emerge reads in the
     * chroot, with the two chroot paths the agent follows made host paths (PKGDIR, the default /var/cache/binpkgs,
     * is the shared $WORK/binpkgs; make.profile points into $WORK/repos). Returns the copy's make.conf.
     */
    static Path translatedEtc(Path work, String host, Path to) throws IOException {
        Path from = work.resolve("hosts").resolve(host).resolve("upper/etc/portage");
        Path etc = to.resolve("etc/portage");
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path t = etc.resolve(from.relativize(f).toString());
                if (f.getFileName().toString().equals("make.profile")) {
                    String target = Files.readSymbolicLink(f).toString();
                    String rel = target.substring(target.indexOf("var/db/repos/") + "var/db/repos/".length());
                    Files.createSymbolicLink(t, work.resolve("repos").resolve(rel));
                } else if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t);
                }
            }
        }
        Path makeConf = etc.resolve("make.conf");
        String pkgdir = "\nPKGDIR=\"" + work.resolve("binpkgs") + "\"\n";
        if (Files.isDirectory(makeConf)) {
            Files.writeString(makeConf.resolve("zz-harness-pkgdir"), pkgdir);
        } else {
            Files.writeString(makeConf, pkgdir, java.nio.file.StandardOpenOption.APPEND);
        }
        return makeConf;
    }

    /** The runner of the bed, with the wrapper's call log in its environment (HARNESS_TABLE_CALLS). */
    private static UpdateRunner withCallsLog(StandIn bed, Path calls) {
        // the agent passes its own environment to emerge; the wrapper reads the log's path from a file beside it
        bed.config.put("binhost.update.emerge-command",
                "/usr/bin/env,HARNESS_TABLE_CALLS=" + calls + "," + bed.config.get("binhost.update.emerge-command"));
        return bed.runner();
    }

    private static String tag(RunRecord r) {
        return r.outcome() == null ? "null" : r.outcome().tag();
    }

    private static void check(List<String> wrong, String what, Object portage, Object agent) {
        if (!portage.equals(agent)) {
            wrong.add(what + ": agent " + agent + ", Portage " + portage);
        }
    }

    private static String cell(String s) {
        return s == null ? "—" : s.replace("|", "\\|").replace("\n", " ");
    }

    /** Highest COUNTER in var/db/pkg; -1 when it is empty (Portage gives the first package merged COUNTER 0). */
    static long maxCounter(Path eroot) throws IOException {
        return vdb(eroot).values().stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    /** cpv → COUNTER of every var/db/pkg entry. */
    static Map<String, Long> vdb(Path eroot) throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        Path db = eroot.resolve("var/db/pkg");
        if (!Files.isDirectory(db)) {
            return m;
        }
        try (Stream<Path> cats = Files.list(db)) {
            for (Path cat : cats.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> pkgs = Files.list(cat)) {
                    for (Path p : pkgs.filter(Files::isDirectory).sorted().toList()) {
                        Path c = p.resolve("COUNTER");
                        if (Files.exists(c)) {
                            m.put(cat.getFileName() + "/" + p.getFileName(), Long.parseLong(Files.readString(c).trim()));
                        }
                    }
                }
            }
        }
        return m;
    }

    private static final Pattern STARTED = Pattern.compile(">>> emerge \\(\\d+ of \\d+\\) (\\S+) to ");
    private static final Pattern COMPLETED = Pattern.compile("::: completed emerge \\(\\d+ of \\d+\\) (\\S+) to ");
    private static final Pattern EXITING = Pattern.compile("\\*\\*\\* exiting (.*)$", Pattern.MULTILINE);

    static Truth truth(Path eroot, long counterBefore, Path emergeLog, long logBefore, Path calls) throws IOException {
        String session = "";
        if (Files.exists(emergeLog)) {
            byte[] all = Files.readAllBytes(emergeLog);
            session = new String(all, (int) logBefore, all.length - (int) logBefore, StandardCharsets.UTF_8);
        }
        List<String> binary = new ArrayList<>();
        List<String> built = new ArrayList<>();
        for (var e : vdb(eroot).entrySet()) {
            if (e.getValue() > counterBefore) {
                (session.contains("Merging Binary (" + e.getKey() + "::") ? binary : built).add(e.getKey());
            }
        }
        Set<String> started = new TreeSet<>();
        Set<String> completed = new TreeSet<>();
        for (Matcher m = STARTED.matcher(session); m.find();) {
            started.add(m.group(1));
        }
        for (Matcher m = COMPLETED.matcher(session); m.find();) {
            completed.add(m.group(1));
        }
        started.removeAll(completed);
        String lastExit = "";
        for (Matcher m = EXITING.matcher(session); m.find();) {
            lastExit = "(log: " + m.group(1).trim() + ")";
        }
        List<Integer> exits = new ArrayList<>();
        if (Files.exists(calls)) {
            for (String line : Files.readAllLines(calls)) {
                exits.add(Integer.valueOf(line.substring(0, line.indexOf(' '))));
            }
        }
        return new Truth(binary, built, new ArrayList<>(started), exits, lastExit);
    }

    private static void sh(String command) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", command).inheritIO().start();
        assertEquals(0, p.waitFor(), "failed: " + command);
    }

    @AfterAll
    static void done() {
        rows.clear();
    }
}
