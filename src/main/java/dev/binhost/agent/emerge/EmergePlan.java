package dev.binhost.agent.emerge;

import dev.binhost.agent.portage.BinpkgIndex;
import dev.binhost.agent.portage.SlaveFacts;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code emerge --pretend --verbose …} says it would do: the packages in order, each as binary or
 * compiled (and why), the totals line, blockers and the notices (errors, warnings) after the list.
 *
 * <p>{@link #parse(String)} is a pure function over the whole output, plain or {@code --color=y}. It reads up to
 * the first {@code >>>} line, so the output of a real (non-pretend) run gives the plan that run printed.
 */
public record EmergePlan(
        List<PlannedPackage> packages,
        Optional<Totals> totals,
        List<Blocker> blockers,
        Optional<String> conflict,
        Map<String, List<String>> ignoredBinaries,
        List<Notice> notices) {

    /** {@code Total: 3 packages (2 upgrades, 1 reinstall, 1 binary), Size of downloads: 2 KiB}. */
    public record Totals(int packages, Map<String, Integer> breakdown, long downloadKiB) {
    }

    /** {@code [blocks B      ] app-misc/demo-legacy ("…" is hard blocking app-misc/demo-modern-1.0)}. */
    public record Blocker(String atom, boolean hard, boolean satisfied, String text) {
    }

    /** A block of text emerge prints after the list: an error, a warning or information. */
    public record Notice(Severity severity, String kind, List<String> lines) {
        public String headline() {
            return lines.isEmpty() ? kind : lines.get(0);
        }
    }

    /** How much a notice matters to an unattended run. */
    public enum Severity { ERROR, WARNING, INFO }

    private static final Pattern PACKAGE_LINE =
            Pattern.compile("^\\[(binary|ebuild|uninstall|nomerge|blocks)([^\\]]*)\\]\\s*(.*)$");
    private static final Pattern CPV = Pattern.compile(
            "^(?<atom>[A-Za-z0-9+_][A-Za-z0-9+_.-]*/[A-Za-z0-9+_][A-Za-z0-9+_-]*?)"
                    + "-(?<ver>\\d+(?:\\.\\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\\d*)*(?:-r\\d+)?)"
                    + "(?:-(?<build>\\d+))?$");
    private static final Pattern VARIABLE = Pattern.compile("^([A-Z][A-Z0-9_]*)=\"([^\"]*)\"$");
    private static final Pattern TOTALS = Pattern.compile(
            "^Total: (\\d+) packages?(?: \\(([^)]*)\\))?, Size of downloads: ([\\d,]+) KiB");
    private static final Pattern BREAKDOWN_ITEM = Pattern.compile("(\\d+) (.+)");
    private static final Pattern IGNORED_ENTRY = Pattern.compile("^\\s+=(\\S+)\\s*(.*)$");
    private static final Pattern SIZE = Pattern.compile("^([\\d,]+)$");
    private static final Pattern BLOCKER = Pattern.compile("^(\\S+)\\s*(.*)$");

    /** Headlines that start a notice: prefix, kind, severity. Order matters only for shared prefixes. */
    private static final List<String[]> HEADLINES = List.of(
            new String[] {"!!! The following binary packages have been ignored due to non matching USE",
                "ignored-binaries", "WARNING"},
            new String[] {"!!! The following binary packages have been ignored due to changed dependencies",
                "ignored-changed-deps", "WARNING"},
            new String[] {"!!! Problems have been detected with your world file", "world-file", "WARNING"},
            new String[] {"!!! Ebuilds for the following packages are either all", "masked-or-missing", "WARNING"},
            new String[] {"!!! All ebuilds that could satisfy", "masked", "ERROR"},
            new String[] {"!!! Multiple package instances within a single package slot", "slot-conflict", "ERROR"},
            new String[] {"!!! existing preserved libs", "preserved-libs", "INFO"},
            new String[] {"emerge: there are no ebuilds to satisfy", "no-ebuilds", "ERROR"},
            new String[] {"* Error: The above package list contains packages which cannot be", "blocked", "ERROR"},
            new String[] {"WARNING: One or more updates/rebuilds have been skipped", "skipped-updates", "WARNING"},
            new String[] {"!!! The following update has been skipped due to unsatisfied dependencies",
                "skipped-updates", "WARNING"},
            new String[] {"!!! The following update(s) have been skipped due to unsatisfied dependencies",
                "skipped-updates", "WARNING"},
            new String[] {"The following USE changes are necessary to proceed", "use-changes-needed", "ERROR"},
            new String[] {"The following keyword changes are necessary to proceed", "keyword-changes-needed",
                "ERROR"},
            new String[] {"The following mask changes are necessary to proceed", "mask-changes-needed", "ERROR"},
            new String[] {"The following packages are causing rebuilds", "rebuilds", "INFO"},
            new String[] {"!!! ", "other", "WARNING"});

    public EmergePlan {
        packages = List.copyOf(packages);
        blockers = List.copyOf(blockers);
        ignoredBinaries = Map.copyOf(ignoredBinaries);
        notices = List.copyOf(notices);
    }

    /** Packages that come from the master as binaries. */
    public List<PlannedPackage> binaries() {
        return packages.stream().filter(p -> p.kind() == PlannedPackage.Kind.BINARY).toList();
    }

    /** Packages that would be compiled on this machine. */
    public List<PlannedPackage> compiled() {
        return packages.stream().filter(p -> p.kind() == PlannedPackage.Kind.EBUILD).toList();
    }

    /** Packages that would be installed, one way or the other (uninstalls and nomerge lines excluded). */
    public int installCount() {
        return binaries().size() + compiled().size();
    }

    public boolean nothingToDo() {
        return packages.isEmpty() && blockers.isEmpty();
    }

    public List<Notice> errors() {
        return notices.stream().filter(n -> n.severity() == Severity.ERROR).toList();
    }

    public boolean hasUnsatisfiedHardBlocker() {
        return blockers.stream().anyMatch(b -> b.hard() && !b.satisfied());
    }

    /** Why emerge refused this plan, as it said: its first error's headline, or the hard blocker; empty if neither. */
    public Optional<String> whyRefused() {
        return errors().stream().findFirst().map(Notice::headline)
                .or(() -> hasUnsatisfiedHardBlocker() ? Optional.of("hard blocker " + blockers.get(0).text())
                        : Optional.empty());
    }

    private static final Pattern BINHOST_UNREACHABLE = Pattern.compile(
            "^!!! \\[([^\\]]+)\\] Error fetching binhost package info from '([^']*)'$");

    /**
     * The binhosts emerge could not read the index of, each as "[repo] url: why" ({@code !!! [binhost-agent] Error
     * fetching binhost package info from 'http://…'} and the next line, {@code !!! [binhost-agent] <urlopen error
     * [Errno 111] Connection refused>}, records 63, 64, 70). emerge then plans without that binhost: with
     * --getbinpkg it exits 0 and builds everything here.
     */
    public static List<String> unreachableBinhosts(String output) {
        List<String> out = new ArrayList<>();
        String[] lines = output.split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            Matcher m = BINHOST_UNREACHABLE.matcher(Ansi.strip(lines[i]).strip());
            if (m.matches()) {
                String prefix = "!!! [" + m.group(1) + "] ";
                String next = i + 1 < lines.length ? Ansi.strip(lines[i + 1]).strip() : "";
                out.add("[" + m.group(1) + "] " + m.group(2)
                        + (next.startsWith(prefix) ? ": " + next.substring(prefix.length()) : ""));
            }
        }
        return out;
    }

    /** Parses emerge's output; colour codes are removed first. Never throws on unknown lines: it skips them. */
    public static EmergePlan parse(String output) {
        String[] lines = Ansi.strip(output).split("\r?\n", -1);
        List<PlannedPackage> packages = new ArrayList<>();
        List<Blocker> blockers = new ArrayList<>();
        Map<String, List<String>> ignored = new LinkedHashMap<>();
        List<Notice> notices = new ArrayList<>();
        Totals totals = null;
        String conflict = null;
        String noticeKind = null;
        Severity noticeSeverity = null;
        List<String> noticeLines = new ArrayList<>();
        boolean previousBlank = true;
        for (String raw : lines) {
            if (raw.startsWith(">>> ")) {
                break;
            }
            String line = stripTrailing(raw);
            Matcher pkg = PACKAGE_LINE.matcher(line);
            Matcher tot = TOTALS.matcher(line);
            String[] headline = headline(line);
            if (headline != null && headline[1].equals("other") && noticeKind != null && !previousBlank) {
                headline = null; // a second "!!!" line of the same message
            }
            previousBlank = line.isBlank();
            boolean ends = pkg.matches() || tot.find() || headline != null || line.startsWith("Conflict: ");
            if (ends && noticeKind != null) {
                notices.add(new Notice(noticeSeverity, noticeKind, trimBlankEnd(noticeLines)));
                noticeKind = null;
                noticeLines = new ArrayList<>();
            }
            if (pkg.matches()) {
                String type = pkg.group(1);
                if (type.equals("blocks")) {
                    blockers.add(blocker(pkg.group(2).strip(), pkg.group(3)));
                } else {
                    packages.add(packageLine(type, pkg.group(2), pkg.group(3)));
                }
            } else if (tot.reset().find()) {
                totals = totals(tot);
            } else if (line.startsWith("Conflict: ")) {
                conflict = line.substring("Conflict: ".length());
            } else if (headline != null) {
                noticeKind = headline[1];
                noticeSeverity = Severity.valueOf(headline[2]);
                noticeLines.add(line.strip());
            } else if (noticeKind != null) {
                if (noticeKind.equals("ignored-binaries")) {
                    Matcher entry = IGNORED_ENTRY.matcher(line);
                    if (entry.matches()) {
                        ignored.put(entry.group(1), List.of(entry.group(2).isBlank()
                                ? new String[0] : entry.group(2).strip().split("\\s+")));
                    }
                }
                noticeLines.add(line);
            }
        }
        if (noticeKind != null) {
            notices.add(new Notice(noticeSeverity, noticeKind, trimBlankEnd(noticeLines)));
        }
        return new EmergePlan(outputReasons(packages, ignored), Optional.ofNullable(totals), blockers,
                Optional.ofNullable(conflict), ignored, notices);
    }

    private static String[] headline(String line) {
        String s = line.strip();
        for (String[] h : HEADLINES) {
            if (s.startsWith(h[0])) {
                return h;
            }
        }
        return null;
    }

    private static PlannedPackage packageLine(String type, String flagColumn, String rest) {
        PlannedPackage.Kind kind = PlannedPackage.Kind.valueOf(type.toUpperCase());
        String flags = flagColumn.replace(" ", "");
        List<String> tokens = tokens(rest);
        String first = tokens.isEmpty() ? "" : tokens.get(0);
        String repository = null;
        int repoAt = first.indexOf("::");
        if (repoAt >= 0) {
            repository = first.substring(repoAt + 2);
            first = first.substring(0, repoAt);
        }
        String slot = null;
        int slotAt = first.indexOf(':');
        if (slotAt >= 0) {
            slot = first.substring(slotAt + 1);
            first = first.substring(0, slotAt);
        }
        String atom = first;
        String version = "";
        OptionalInt buildId = OptionalInt.empty();
        Matcher cpv = CPV.matcher(first);
        if (cpv.matches()) {
            atom = cpv.group("atom");
            version = cpv.group("ver");
            if (cpv.group("build") != null) {
                buildId = OptionalInt.of(Integer.parseInt(cpv.group("build")));
            }
        }
        String previous = null;
        Map<String, List<UseFlag>> variables = new LinkedHashMap<>();
        OptionalLong size = OptionalLong.empty();
        for (int i = 1; i < tokens.size(); i++) {
            String t = tokens.get(i);
            Matcher var = VARIABLE.matcher(t);
            Matcher sz = SIZE.matcher(t);
            if (t.startsWith("[") && t.endsWith("]") && previous == null) {
                previous = t.substring(1, t.length() - 1);
            } else if (var.matches()) {
                List<UseFlag> flagsOf = new ArrayList<>();
                for (String f : var.group(2).strip().split("\\s+")) {
                    if (!f.isEmpty()) {
                        flagsOf.add(UseFlag.parse(f));
                    }
                }
                variables.put(var.group(1), List.copyOf(flagsOf));
            } else if (sz.matches() && i + 1 < tokens.size() && tokens.get(i + 1).equals("KiB")) {
                size = OptionalLong.of(Long.parseLong(sz.group(1).replace(",", "")));
                i++;
            }
        }
        return new PlannedPackage(kind, flags, atom, version, buildId, Optional.ofNullable(slot),
                Optional.ofNullable(repository), Optional.ofNullable(previous), variables, size, Optional.empty());
    }

    /** Splits on spaces, keeping {@code KEY="a b"} and {@code [x y]} together. */
    private static List<String> tokens(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ' ' && !quoted) {
                if (!cur.isEmpty()) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur.toString());
        }
        return out;
    }

    private static Blocker blocker(String flag, String rest) {
        Matcher m = BLOCKER.matcher(rest.strip());
        String atom = m.matches() ? m.group(1) : rest.strip();
        String text = m.matches() ? m.group(2).replaceAll("^\\(|\\)$", "") : "";
        // Portage: B = hard, unsatisfied; b = soft, resolved by an uninstall; a lower-case flag is satisfied.
        boolean hard = flag.contains("B") || text.contains("hard blocking");
        boolean satisfied = flag.equals(flag.toLowerCase());
        return new Blocker(atom, hard, satisfied, text);
    }

    private static Totals totals(Matcher m) {
        Map<String, Integer> breakdown = new LinkedHashMap<>();
        if (m.group(2) != null) {
            for (String item : m.group(2).split(",\\s*")) {
                Matcher b = BREAKDOWN_ITEM.matcher(item.strip());
                if (b.matches()) {
                    breakdown.put(b.group(2), Integer.parseInt(b.group(1)));
                }
            }
        }
        return new Totals(Integer.parseInt(m.group(1)), breakdown, Long.parseLong(m.group(3).replace(",", "")));
    }

    /**
     * The plan with each compiled package's reason told from the master's {@code Packages} index and this
     * slave's facts ({@link BuildReasons}): "no binary of this version" where emerge's output alone could only
     * guess. Binaries, uninstalls and the rest of the plan are unchanged.
     */
    public EmergePlan withReasons(BinpkgIndex index, SlaveFacts facts) {
        List<PlannedPackage> out = new ArrayList<>(packages.size());
        for (PlannedPackage p : packages) {
            out.add(p.kind() == PlannedPackage.Kind.EBUILD ? p.withReason(BuildReasons.of(p, this, index, facts)) : p);
        }
        return new EmergePlan(out, totals, blockers, conflict, ignoredBinaries, notices);
    }

    /**
     * The plan when the master's index could not be used: the reasons emerge's output gives (a local build
     * asked for by this slave's options overrides them), and a warning notice saying why the index was not used,
     * so the history tells the reasons are guesses. Unchanged when nothing is compiled.
     */
    public EmergePlan withoutIndex(String why, SlaveFacts facts) {
        if (compiled().isEmpty()) {
            return this;
        }
        List<PlannedPackage> out = new ArrayList<>(packages.size());
        for (PlannedPackage p : packages) {
            out.add(p.kind() == PlannedPackage.Kind.EBUILD
                    ? BuildReasons.withoutIndex(p, this, facts).map(p::withReason).orElse(p) : p);
        }
        List<Notice> withNote = new ArrayList<>(notices);
        withNote.add(new Notice(Severity.WARNING, "binpkg-index",
                List.of("reasons from emerge's output only: the master's index was not used: " + why)));
        return new EmergePlan(out, totals, blockers, conflict, ignoredBinaries, withNote);
    }

    private static List<PlannedPackage> outputReasons(List<PlannedPackage> packages, Map<String, List<String>> ignored) {
        boolean anyBinary = packages.stream().anyMatch(p -> p.kind() == PlannedPackage.Kind.BINARY);
        List<PlannedPackage> out = new ArrayList<>(packages.size());
        for (PlannedPackage p : packages) {
            if (p.kind() != PlannedPackage.Kind.EBUILD) {
                out.add(p);
                continue;
            }
            List<String> binaryFlags = ignored.get(p.cpv());
            if (binaryFlags != null) {
                out.add(p.withReason(useDiffers(p, binaryFlags)));
            } else if (anyBinary) {
                out.add(p.withReason(new CompileReason(CompileReason.Kind.NO_BINARY, List.of(), List.of(),
                        "no binary package of " + p.cpv() + " on the master (or emerge rejected it without saying"
                                + " why)")));
            } else {
                out.add(p.withReason(new CompileReason(CompileReason.Kind.NO_USABLE_BINARIES, List.of(), List.of(),
                        "no package in this plan comes as a binary: no binary packages reachable, --usepkg"
                                + " missing, or every binary rejected silently (a different CHOST or ARCH);"
                                + " emerge does not say which")));
            }
        }
        return out;
    }

    static CompileReason useDiffers(PlannedPackage p, List<String> binaryFlags) {
        List<String> here = new ArrayList<>();
        for (String f : binaryFlags) {
            String name = f.startsWith("-") ? f.substring(1) : f;
            String local = p.variables().values().stream().flatMap(List::stream)
                    .filter(u -> u.name().equals(name)).map(UseFlag::setting).findFirst()
                    .orElse(f.startsWith("-") ? name : "-" + name);
            here.add(local);
        }
        String text = "USE differs from the master's binary: binary has " + String.join(" ", binaryFlags)
                + ", this machine wants " + String.join(" ", here);
        return new CompileReason(CompileReason.Kind.USE_DIFFERS, here, binaryFlags, text);
    }

    private static String stripTrailing(String s) {
        int end = s.length();
        while (end > 0 && Character.isWhitespace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    private static List<String> trimBlankEnd(List<String> lines) {
        int end = lines.size();
        while (end > 0 && lines.get(end - 1).isBlank()) {
            end--;
        }
        return List.copyOf(lines.subList(0, end));
    }
}
