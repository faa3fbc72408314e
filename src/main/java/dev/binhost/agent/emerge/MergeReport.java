package dev.binhost.agent.emerge;

import dev.binhost.agent.portage.EmergeLog;
import dev.binhost.agent.portage.InstalledDb;
import dev.binhost.agent.portage.MtimeDb;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a real emerge run did, from Portage's own records rather than its terminal text: the installed database
 * says what was merged (COUNTER above the mark taken before the run), emerge.log says how each package came
 * (binary or built here) and which started without completing, the resume list says what emerge still owed. The
 * approved plan says what should have been installed, so a package it named and the records lack is reported
 * with why. Terminal output adds only what has no record: the phase a build failed in.
 *
 * @param installed    merged by this run, oldest first
 * @param failed       started and not completed (failed to build or install), in the order they started
 * @param notInstalled planned packages the run did not install, each with why
 * @param resumeLeft   what emerge's resume list still holds after the run
 * @param blockedBy    updates emerge reported it skipped or dropped (missing dependency, conflict, mask)
 * @param source       where the counts come from: "records", or what was missing and what stood in
 */
public record MergeReport(Result result, int exitCode, List<Installed> installed, List<String> failed,
        Optional<String> failedPhase, List<NotInstalled> notInstalled, List<String> resumeLeft,
        List<String> blockedBy, String source, String message) {

    /** How the run ended. */
    public enum Result {
        /** Everything the plan approved is installed and emerge reported nothing skipped. */
        SUCCESS,
        /** Some of the plan is installed, some is not (binaries only, --keep-going after a failure). */
        PARTIAL,
        /** emerge skipped or dropped updates it reported (missing dependency, conflict, mask), exit 0 or not. */
        BLOCKED,
        /** A package failed and emerge stopped, or emerge failed before merging. */
        FAILED,
        /** The run passed its deadline and was killed. */
        TIMED_OUT
    }

    /** A package the run installed: binary (the master's) or built here. */
    public record Installed(String cpv, boolean binary) {
    }

    /** A package the run should install, and whether the plan had it as a binary. */
    public record Expected(String cpv, boolean binary) {
        /** The packages the plan installs (binaries and builds; not uninstalls or listed-only ones). */
        public static List<Expected> fromPlan(List<PlannedPackage> plan) {
            return plan.stream().filter(p -> p.kind() == PlannedPackage.Kind.BINARY
                    || p.kind() == PlannedPackage.Kind.EBUILD)
                    .map(p -> new Expected(p.cpv(), p.kind() == PlannedPackage.Kind.BINARY)).toList();
        }

        /** What a resume list holds for merging. */
        public static List<Expected> fromResume(List<MtimeDb.Pending> left) {
            return left.stream().map(p -> new Expected(p.cpv(), p.type().equals("binary"))).toList();
        }
    }

    /** A planned package the run did not install, and why. */
    public record NotInstalled(String cpv, String why) {
    }

    public MergeReport {
        installed = List.copyOf(installed);
        failed = List.copyOf(failed);
        notInstalled = List.copyOf(notInstalled);
        resumeLeft = List.copyOf(resumeLeft);
        blockedBy = List.copyOf(blockedBy);
    }

    public int installedBinary() {
        return (int) installed.stream().filter(Installed::binary).count();
    }

    public int installedCompiled() {
        return installed.size() - installedBinary();
    }

    /** The packages still to do after this run: the resume list when emerge kept one, else the plan's rest. */
    public int pending() {
        return Math.max(resumeLeft.size(), notInstalled.size());
    }

    /** Notice kinds of {@link EmergePlan} that mean emerge left an update out although it may exit 0. */
    static final Set<String> BLOCKING_NOTICES = Set.of("skipped-updates", "world-file", "masked-or-missing",
            "no-ebuilds", "slot-conflict", "masked", "blocked");

    /**
     * Reconciles one run.
     *
     * @param expected   the packages the run should install (the approved plan's, or the resume list's for
     *                   {@code --resume}), in plan order
     * @param plan       the plan emerge printed (its notices say what it skipped); may be empty
     * @param session    this run's emerge.log session, empty when the log has none (not written, unreadable)
     * @param vdb        the installed database after the run, or null when it could not be read
     * @param counter    the highest COUNTER before the run
     * @param resumeLeft the resume list after the run
     * @param progress   what the terminal output said (failed phase; counts when no record exists)
     */
    public static MergeReport of(List<Expected> expected, EmergePlan plan, Optional<EmergeLog.Session> session,
            InstalledDb vdb, long counter, List<MtimeDb.Pending> resumeLeft, EmergeProgress.Snapshot progress,
            int exitCode, boolean timedOut) {
        Map<String, Expected> byCpv = new LinkedHashMap<>();
        expected.forEach(p -> byCpv.put(p.cpv(), p));
        Map<String, EmergeLog.Package> logged = new LinkedHashMap<>();
        session.ifPresent(s -> s.packages().forEach(p -> logged.put(p.cpv(), p)));

        List<Installed> installed = new ArrayList<>();
        String source;
        if (vdb != null) {
            source = session.isPresent() ? "records" : "installed database (emerge.log has no session of this run)";
            for (InstalledDb.Entry e : vdb.mergedAfter(counter)) {
                installed.add(new Installed(e.cpv(), binary(e.cpv(), logged, byCpv)));
            }
        } else if (session.isPresent()) {
            source = "emerge.log (the installed database could not be read)";
            session.get().completed().forEach(p -> installed.add(new Installed(p.cpv(), binary(p.cpv(), logged, byCpv))));
        } else {
            source = "terminal output (no record of this run could be read)";
            for (int i = 0; i < progress.completedBinary(); i++) {
                installed.add(new Installed("?", true));
            }
            for (int i = 0; i < progress.completedCompiled(); i++) {
                installed.add(new Installed("?", false));
            }
        }
        Set<String> done = installed.stream().map(Installed::cpv).collect(Collectors.toSet());
        List<String> failed = logged.values().stream().filter(p -> !p.completed() && !done.contains(p.cpv()))
                .map(EmergeLog.Package::cpv).toList();
        if (failed.isEmpty() && session.isEmpty() && progress.failedPackage().isPresent()) {
            failed = List.of(progress.failedPackage().get());
        }
        List<String> left = resumeLeft.stream().map(MtimeDb.Pending::cpv).toList();
        boolean keptGoing = keptGoing(failed, session);

        List<NotInstalled> missing = new ArrayList<>();
        if (!source.startsWith("terminal")) {
            for (Expected p : byCpv.values()) {
                if (done.contains(p.cpv())) {
                    continue;
                }
                String why = failed.contains(p.cpv())
                        ? "failed" + (p.cpv().equals(progress.failedPackage().orElse(null))
                                ? in(progress.failedPhase(), progress.failedDetail()) : "")
                        : timedOut ? "not reached before the deadline"
                        : !failed.isEmpty() ? (keptGoing ? "skipped after " + failed.get(0) + " failed"
                                : "not reached: emerge stopped after " + failed.get(0) + " failed")
                        : exitCode != 0 ? "not merged: emerge exited " + exitCode
                        : "not merged: emerge left it out";
                missing.add(new NotInstalled(p.cpv(), why));
            }
        }
        boolean binariesOnly = session.map(x -> List.of(x.arguments().split(" ")).contains("--usepkgonly"))
                .orElse(false);
        List<String> blockedBy = new ArrayList<>();
        for (EmergePlan.Notice n : plan == null ? List.<EmergePlan.Notice>of() : plan.notices()) {
            if (binariesOnly && n.kind().equals("masked-or-missing")) {
                // under --usepkgonly a package with no usable binary "does not exist" for emerge: not installed
                Map<String, String> why = new LinkedHashMap<>();
                UsepkgOnly.dropped(plan).forEach(d -> why.put(d.atom(), d.why()));
                atoms(n).forEach(a -> missing.add(new NotInstalled(a, "no usable binary on the master (binaries only)"
                        + (why.containsKey(a) ? ": " + why.get(a) : ""))));
            } else if (binariesOnly && n.kind().equals("world-file")) {
                continue; // the same drop, announced
            } else if (BLOCKING_NOTICES.contains(n.kind())) {
                blockedBy.add(blockingText(n));
            }
        }

        Result result;
        if (timedOut) {
            result = Result.TIMED_OUT;
        } else if (!failed.isEmpty()) {
            result = keptGoing && !installed.isEmpty() ? Result.PARTIAL : Result.FAILED;
        } else if (exitCode != 0) {
            result = Result.FAILED;
        } else if (!blockedBy.isEmpty()) {
            result = Result.BLOCKED;
        } else if (!missing.isEmpty()) {
            result = Result.PARTIAL;
        } else {
            result = Result.SUCCESS;
        }
        Optional<String> phase = failed.isEmpty() ? Optional.empty()
                : failed.get(0).equals(progress.failedPackage().orElse(null)) ? progress.failedPhase() : Optional.empty();
        Optional<String> where = phase.map(p -> in(phase, progress.failedDetail()));
        String message = message(result, installed, failed, where, missing, blockedBy, exitCode, progress, byCpv.size());
        return new MergeReport(result, exitCode, installed, failed, phase, missing, left, blockedBy, source, message);
    }

    /**
     * --keep-going (emerge logs its options, EMERGE_DEFAULT_OPTS included): after a failure emerge drops what
     * depends on the failed package and merges the rest, so the run is partial rather than stopped.
     */
    private static boolean keptGoing(List<String> failed, Optional<EmergeLog.Session> session) {
        return !failed.isEmpty() && session.isPresent()
                && List.of(session.get().arguments().split(" ")).contains("--keep-going");
    }

    private static boolean binary(String cpv, Map<String, EmergeLog.Package> logged, Map<String, Expected> plan) {
        EmergeLog.Package p = logged.get(cpv);
        if (p != null && p.source() != EmergeLog.Source.UNKNOWN) {
            return p.source() == EmergeLog.Source.BINARY;
        }
        Expected planned = plan.get(cpv);
        return planned != null && planned.binary();
    }

    /** The package atoms a notice lists (one per line, or several on one line as "masked or don't exist:" does). */
    private static List<String> atoms(EmergePlan.Notice n) {
        return n.lines().stream().skip(1).map(String::strip)
                .filter(l -> l.matches("[A-Za-z0-9+_.-]+/[A-Za-z0-9+_.-]+(:\\S+)?( [A-Za-z0-9+_.-]+/[A-Za-z0-9+_.-]+(:\\S+)?)*"))
                .flatMap(l -> java.util.Arrays.stream(l.split(" "))).distinct().toList();
    }

    /** The packages emerge's blocking notices name (the updates left out); at least one when any notice blocks. */
    public static int blockedCount(EmergePlan plan) {
        List<EmergePlan.Notice> blocking = plan.notices().stream().filter(n -> BLOCKING_NOTICES.contains(n.kind()))
                .toList();
        long atoms = blocking.stream().flatMap(n -> atoms(n).stream()).distinct().count();
        return blocking.isEmpty() ? 0 : (int) Math.max(1, atoms);
    }

    /** What emerge said it left out, one line per notice that means it did (empty when none). */
    public static List<String> blockers(EmergePlan plan) {
        return plan.notices().stream().filter(n -> BLOCKING_NOTICES.contains(n.kind())).map(MergeReport::blockingText)
                .toList();
    }

    /** The atom a notice names in quotes on its headline (no-ebuilds, masked: {@code "dev-libs/foo"}), if any. */
    private static final java.util.regex.Pattern QUOTED = java.util.regex.Pattern.compile("\"([^\"\\s]+/[^\"\\s]+)\"");

    private static String blockingText(EmergePlan.Notice n) {
        List<String> atoms = atoms(n);
        if (atoms.isEmpty() && !n.lines().isEmpty()) {
            // the missing or masked dependency is named on the headline itself; it names what is missing, not an
            // update left out, so it is not counted in blockedCount
            java.util.regex.Matcher m = QUOTED.matcher(n.lines().get(0));
            atoms = m.find() ? List.of(m.group(1)) : atoms;
        }
        String what = switch (n.kind()) {
            case "skipped-updates" -> "updates skipped (dependency conflict)";
            case "world-file" -> "world file problems";
            case "masked-or-missing" -> "masked or missing";
            case "no-ebuilds" -> "no ebuilds to satisfy";
            case "slot-conflict" -> "slot conflict";
            case "masked" -> "masked";
            default -> "blocked";
        };
        return atoms.isEmpty() ? what : what + ": " + String.join(", ", atoms);
    }

    /**
     * " in the compile phase", or for a bad binary " in the binary digest check (its size does not match …)".
     */
    private static String in(Optional<String> phase, Optional<String> detail) {
        return phase.map(p -> " in the " + p + detail.map(d -> " (" + d + ")").orElse(" phase")).orElse("");
    }

    /** {@code where}: {@link #in} of the failed package, empty when the phase is not known. */
    private static String message(Result result, List<Installed> installed, List<String> failed,
            Optional<String> where, List<NotInstalled> missing, List<String> blockedBy, int exitCode,
            EmergeProgress.Snapshot progress, int planned) {
        long binary = installed.stream().filter(Installed::binary).count();
        String merged = "merged " + installed.size() + " packages (" + binary + " binary, "
                + (installed.size() - binary) + " compiled)";
        String of = planned > 0 ? "merged " + installed.size() + " of " + planned + " packages (" + binary
                + " binary, " + (installed.size() - binary) + " compiled)" : merged;
        String notInstalled = missing.isEmpty() ? "" : "; not installed: " + missing.stream()
                .map(m -> m.cpv() + " (" + m.why() + ")").limit(10).collect(Collectors.joining(", "))
                + (missing.size() > 10 ? " and " + (missing.size() - 10) + " more" : "");
        return switch (result) {
            case SUCCESS -> installed.isEmpty() ? "nothing to merge" : merged;
            case PARTIAL -> (failed.isEmpty() ? "" : failed.get(0) + " failed" + where.orElse("") + " (exit " + exitCode + "), emerge kept going; ") + of + notInstalled;
            case BLOCKED -> of + "; emerge left out " + String.join("; ", blockedBy) + notInstalled;
            case FAILED -> failed.isEmpty()
                    ? "emerge exited " + exitCode + "; " + of + notInstalled
                    : failed.get(0) + " failed" + where.orElse("") + " (exit "
                            + exitCode + ") after " + of + notInstalled;
            case TIMED_OUT -> "emerge passed its deadline" + progress.current().map(c -> " while emerging " + c)
                    .orElse("") + " after " + of + "; killed" + notInstalled;
        };
    }
}
