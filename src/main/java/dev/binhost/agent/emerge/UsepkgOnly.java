package dev.binhost.agent.emerge;

import dev.binhost.agent.portage.BinpkgIndex;
import dev.binhost.agent.portage.SlaveFacts;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binaries only, safely. Under {@code --usepkgonly} (or {@code --getbinpkgonly}) emerge turns
 * {@code --binpkg-respect-use} and {@code --binpkg-changed-deps} off unless they are given, so it would install
 * the master's binaries built with other USE flags, or against dependencies that changed since. The agent gives
 * both as {@code y} whenever its arguments ask for binaries only; one the admin set in
 * {@code binhost.update.emerge-args} is left as set.
 *
 * <p>With binaries only, emerge does not build a package that has no usable binary: it leaves it out of the merge
 * list, says "Ebuilds for the following packages are either all masked or don't exist" naming the {@code @world}
 * atoms, and exits 0 (recorded in the harness, records 07-10). {@link #withDropped} turns that into a warning
 * notice of the plan that names each package and why it has no usable binary, from the master's index.
 */
public final class UsepkgOnly {
    /** The options emerge switches off under --usepkgonly, which the agent switches back on. */
    public static final List<String> SAFETY = List.of("--binpkg-respect-use", "--binpkg-changed-deps");

    private UsepkgOnly() {
    }

    /** Whether {@code args} ask emerge for binaries only: --usepkgonly, --getbinpkgonly, -K, -G (not =n). */
    public static boolean asked(List<String> args) {
        boolean only = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (name.equals("--usepkgonly") || name.equals("--getbinpkgonly")) {
                String next = i + 1 < args.size() ? args.get(i + 1) : "";
                only = !(a.endsWith("=n") || next.equals("n"));
            } else if (a.startsWith("-") && !a.startsWith("--") && a.length() > 1
                    && a.substring(1).chars().allMatch(Character::isLetterOrDigit)
                    && (a.indexOf('K') > 0 || a.indexOf('G') > 0)) {
                only = true;
            }
        }
        return only;
    }

    /** The arguments to add to {@code args}: {@code --binpkg-respect-use=y --binpkg-changed-deps=y} when needed. */
    public static List<String> safetyArgs(List<String> args) {
        List<String> add = new ArrayList<>();
        if (!asked(args)) {
            return add;
        }
        for (String option : SAFETY) {
            if (args.stream().noneMatch(a -> a.equals(option) || a.startsWith(option + "="))) {
                add.add(option + "=y");
            }
        }
        return add;
    }

    /** A package emerge left out under binaries only, and why the master's binary would not do. */
    public record Dropped(String atom, String why) {
    }

    /** The notice's kind. */
    public static final String NOTICE = "no-usable-binary";
    private static final Pattern DEP_ATOM = Pattern.compile("^[<>=~]*([A-Za-z0-9+_][A-Za-z0-9+_.-]*/[A-Za-z0-9+_][A-Za-z0-9+_-]*?)"
            + "(?:-\\d+(?:\\.\\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\\d*)*(?:-r\\d+)?\\*?)?(?:[:\\[].*)?$");

    /** The atoms emerge said it could not satisfy ("either all masked or don't exist"). */
    public static List<String> droppedAtoms(EmergePlan plan) {
        Set<String> atoms = new LinkedHashSet<>();
        plan.notices().stream().filter(n -> n.kind().equals("masked-or-missing")).forEach(n -> {
            for (String line : n.lines()) {
                if (!line.strip().startsWith("!!!")) {
                    for (String w : line.strip().split("\\s+")) {
                        if (w.contains("/")) {
                            atoms.add(w);
                        }
                    }
                }
            }
        });
        return List.copyOf(atoms);
    }

    /** The dropped packages of a plan made with binaries only, from its {@link #NOTICE} notice; empty if none. */
    public static List<Dropped> dropped(EmergePlan plan) {
        List<Dropped> out = new ArrayList<>();
        plan.notices().stream().filter(n -> n.kind().equals(NOTICE)).forEach(n -> {
            for (String line : n.lines().subList(1, n.lines().size())) {
                int colon = line.indexOf(": ");
                out.add(new Dropped(line.substring(0, colon).strip(), line.substring(colon + 2)));
            }
        });
        return out;
    }

    /**
     * The plan with a warning notice naming each package emerge dropped for want of a usable binary, and why;
     * {@code index} empty (with {@code whyNoIndex}) when the master's index could not be read. Unchanged when
     * emerge dropped nothing.
     */
    public static EmergePlan withDropped(EmergePlan plan, Optional<BinpkgIndex> index, String whyNoIndex,
            SlaveFacts facts) {
        List<String> atoms = droppedAtoms(plan);
        if (atoms.isEmpty()) {
            return plan;
        }
        List<String> lines = new ArrayList<>();
        List<String> each = new ArrayList<>();
        for (String atom : atoms) {
            String why = index.map(i -> why(atom, i, facts, true))
                    .orElse("the master's index was not used: " + whyNoIndex);
            lines.add("  " + atom + ": " + why);
            each.add(atom + " (" + why + ")");
        }
        // the headline is what the history keeps: every package with its reason
        lines.add(0, "not installed, no usable binary on the master (binaries only): " + String.join("; ", each));
        List<EmergePlan.Notice> notices = new ArrayList<>(plan.notices());
        notices.add(new EmergePlan.Notice(EmergePlan.Severity.WARNING, NOTICE, lines));
        return new EmergePlan(plan.packages(), plan.totals(), plan.blockers(), plan.conflict(),
                plan.ignoredBinaries(), notices);
    }

    /**
     * Why the master's binaries of {@code atom} do not do here: none; another ARCH or CHOST; other USE than this
     * slave's package.use, USE and the IUSE defaults ask for (flags named, both sides); or, one level deep, a
     * dependency that has no usable binary itself.
     */
    static String why(String atom, BinpkgIndex index, SlaveFacts facts, boolean followDeps) {
        List<BinpkgIndex.Entry> builds = index.of(atom);
        if (builds.isEmpty()) {
            return "no binary of " + atom + " on the master";
        }
        if (index.arch().isPresent() && facts.arch().isPresent() && !index.arch().get().equals(facts.arch().get())) {
            return "ARCH differs: master " + index.arch().get() + ", this machine " + facts.arch().get();
        }
        List<BinpkgIndex.Entry> accepted = builds.stream().filter(b -> facts.acceptsChost(b.chost())).toList();
        if (accepted.isEmpty()) {
            return "CHOST differs: binary " + String.join(" ", builds.stream().map(BinpkgIndex.Entry::chost)
                    .distinct().toList()) + ", this machine " + facts.chostShown();
        }
        String useDiff = null;
        BinpkgIndex.Entry matching = null;
        List<BinpkgIndex.Entry> newestFirst = new ArrayList<>(accepted);
        java.util.Collections.reverse(newestFirst);
        for (BinpkgIndex.Entry b : newestFirst) {
            List<String> here = new ArrayList<>();
            List<String> binary = new ArrayList<>();
            for (String iuse : b.get("IUSE").strip().split("\\s+")) {
                if (iuse.isEmpty()) {
                    continue;
                }
                String flag = iuse.replaceFirst("^[+-]", "");
                boolean wanted = facts.wants(atom, flag).orElse(iuse.startsWith("+"));
                boolean built = b.use().contains(flag);
                if (wanted != built) {
                    here.add((wanted ? "" : "-") + flag);
                    binary.add((built ? "" : "-") + flag);
                }
            }
            if (here.isEmpty()) {
                matching = b;
                break;
            }
            useDiff = useDiff != null ? useDiff : "USE differs: binary " + b.shown() + " has " + String.join(" ", binary)
                    + ", this machine wants " + String.join(" ", here);
        }
        if (matching == null) {
            return useDiff;
        }
        if (followDeps) {
            for (String dep : deps(matching)) {
                if (!dep.equals(atom)) {
                    String depWhy = why(dep, index, facts, false);
                    if (!depWhy.startsWith("the master's binary")) {
                        return "needs " + dep + ": " + depWhy;
                    }
                }
            }
        }
        return "the master's binary " + matching.shown() + " matches USE and CHOST; emerge still found it unusable";
    }

    /** The category/name of every package a binary depends on (DEPEND, RDEPEND, BDEPEND, PDEPEND), no blockers. */
    static List<String> deps(BinpkgIndex.Entry b) {
        Set<String> out = new LinkedHashSet<>();
        for (String key : List.of("RDEPEND", "DEPEND", "BDEPEND", "PDEPEND")) {
            for (String w : b.get(key).strip().split("\\s+")) {
                Matcher m = DEP_ATOM.matcher(w);
                if (!w.startsWith("!") && m.matches()) {
                    out.add(m.group(1));
                }
            }
        }
        return List.copyOf(out);
    }
}
