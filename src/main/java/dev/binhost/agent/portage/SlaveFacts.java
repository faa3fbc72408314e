package dev.binhost.agent.portage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What this slave's Portage makes of a binary package, as far as the reasons for a local build need it: its
 * CHOST (and ACCEPT_CHOSTS), its ARCH, its PKGDIR, and whether its emerge wants binaries at all. Read from the
 * profile ({@code make.profile} beside make.conf, its {@code parent} chain, each {@code make.defaults}) and then
 * make.conf, later values winning, as Portage reads them; the emerge arguments and make.conf's
 * {@code EMERGE_DEFAULT_OPTS} for {@code --usepkg} and friends.
 *
 * @param chost         CHOST, when the profile or make.conf says
 * @param acceptChosts  ACCEPT_CHOSTS (regular expressions); empty: only {@code chost}
 * @param arch          ARCH, when the profile or make.conf says
 * @param pkgdir        PKGDIR (Portage's default when unset), where the master's {@code Packages} is read
 * @param usesBinaries  whether emerge is told to use binaries (--usepkg, -k, --usepkgonly, --getbinpkg, …,
 *                      FEATURES=getbinpkg), the last word of the command line winning
 * @param usepkgExclude the patterns of --usepkg-exclude (category/name, * as a wildcard)
 * @param use           the global USE flags, profile then make.conf, incremental ("-flag" removes, "-*" clears)
 * @param packageUse    the lines of {@code package.use} beside make.conf, in Portage's reading order
 * @param notes         what could not be read, for the run's log
 */
public record SlaveFacts(Optional<String> chost, List<String> acceptChosts, Optional<String> arch, Path pkgdir,
        boolean usesBinaries, List<String> usepkgExclude, List<String> use, List<PackageUse> packageUse,
        List<String> notes) {

    /** One package.use line: an atom (category/name, a version operator or * wildcards allowed) and flags. */
    public record PackageUse(String atom, List<String> flags) {
        public PackageUse {
            flags = List.copyOf(flags);
        }

        /** Whether the line's atom names {@code atom} (category/name): the version part is not compared. */
        public boolean names(String catPkg) {
            String a = atom.replaceFirst("^[<>=~]+", "").replaceFirst("::.*$", "").replaceFirst(":.*$", "");
            if (!a.equals(atom)) {
                a = a.replaceFirst("-\\d.*$", "");
            }
            Pattern re = Pattern.compile(("\\Q" + a + "\\E").replace("*", "\\E[^/]*\\Q"));
            return re.matcher(catPkg).matches();
        }
    }

    /** Portage's PKGDIR when make.conf sets none. */
    public static final String DEFAULT_PKGDIR = "/var/cache/binpkgs";
    private static final int MAX_PROFILE_DEPTH = 32;

    public SlaveFacts {
        acceptChosts = List.copyOf(acceptChosts);
        use = List.copyOf(use);
        packageUse = List.copyOf(packageUse);
        usepkgExclude = List.copyOf(usepkgExclude);
        notes = List.copyOf(notes);
    }

    /** The Packages file of PKGDIR. */
    public Path packagesFile() {
        return pkgdir.resolve("Packages");
    }

    /**
     * Whether Portage here accepts a binary built for {@code binaryChost}: it matches one of ACCEPT_CHOSTS, or
     * equals CHOST when that is unset; true when this slave's CHOST is not known (nothing to compare).
     */
    public boolean acceptsChost(String binaryChost) {
        List<String> accepted = !acceptChosts.isEmpty() ? acceptChosts : chost.map(List::of).orElse(List.of());
        if (accepted.isEmpty() || binaryChost.isEmpty()) {
            return true;
        }
        for (String a : accepted) {
            try {
                if (Pattern.matches(a, binaryChost)) {
                    return true;
                }
            } catch (PatternSyntaxException e) {
                if (a.equals(binaryChost)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** How the reasons name this slave's CHOST: "x86_64-pc-linux-gnu", or "ACCEPT_CHOSTS a b". */
    public String chostShown() {
        return !acceptChosts.isEmpty() ? "ACCEPT_CHOSTS " + String.join(" ", acceptChosts)
                : chost.orElse("unknown");
    }

    /**
     * Whether this slave wants {@code flag} on for {@code atom}: the last package.use line naming both, else the
     * global USE; empty when neither says (the package's IUSE default then holds). Profile package.use, use.force
     * and use.mask are not read.
     */
    public Optional<Boolean> wants(String atom, String flag) {
        Optional<Boolean> wanted = Optional.empty();
        for (PackageUse line : packageUse) {
            if (line.names(atom)) {
                for (String f : line.flags()) {
                    if (f.equals("-*")) {
                        wanted = Optional.of(false);
                    } else if (f.equals(flag) || f.equals("-" + flag)) {
                        wanted = Optional.of(!f.startsWith("-"));
                    }
                }
            }
        }
        return wanted.isPresent() ? wanted : use.contains(flag) ? Optional.of(true) : Optional.empty();
    }

    /** The --usepkg-exclude pattern that keeps {@code atom} from binaries, if any. */
    public Optional<String> excludedFromBinaries(String atom) {
        String name = atom.substring(atom.indexOf('/') + 1);
        for (String p : usepkgExclude) {
            String glob = p.startsWith("=") ? p.substring(1) : p;
            Pattern re = Pattern.compile(("\\Q" + glob + "\\E").replace("*", "\\E.*\\Q"));
            if (re.matcher(atom).matches() || (!glob.contains("/") && re.matcher(name).matches())) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * Reads the profile beside {@code makeConf} and make.conf itself, then the emerge arguments. A missing or
     * unreadable part is a note, never a failure: the facts are then unknown.
     */
    public static SlaveFacts read(Path makeConf, List<String> emergeArgs) {
        List<String> notes = new ArrayList<>();
        List<MakeConf.Source> sources = new ArrayList<>();
        Path profile = makeConf.resolveSibling("make.profile");
        if (Files.exists(profile)) {
            profile(profile, "make.profile", sources, notes, new HashSet<>(), 0);
        }
        try {
            sources.addAll(MakeConf.read(makeConf));
        } catch (IOException e) {
            notes.add("cannot read " + makeConf + ": " + e.getMessage());
        }
        SlaveFacts facts = of(MakeConf.evaluate(sources), emergeArgs, notes);
        List<PackageUse> packageUse = new ArrayList<>();
        try {
            for (MakeConf.Source src : MakeConf.read(makeConf.resolveSibling("package.use"))) {
                for (String line : src.text().split("\n")) {
                    List<String> w = words(line.replaceFirst("#.*$", ""));
                    if (w.size() > 1) {
                        packageUse.add(new PackageUse(w.get(0), w.subList(1, w.size())));
                    }
                }
            }
        } catch (IOException e) {
            notes.add("cannot read " + makeConf.resolveSibling("package.use") + ": " + e.getMessage());
        }
        return new SlaveFacts(facts.chost(), facts.acceptChosts(), facts.arch(), facts.pkgdir(),
                facts.usesBinaries(), facts.usepkgExclude(), facts.use(), packageUse, notes);
    }

    /** The facts of an evaluated make.conf (profile first) and the emerge arguments. */
    public static SlaveFacts of(MakeConf.Evaluation conf, List<String> emergeArgs, List<String> notes) {
        List<String> args = new ArrayList<>(words(conf.get("EMERGE_DEFAULT_OPTS")));
        args.addAll(emergeArgs);
        boolean binaries = false;
        for (String f : words(conf.get("FEATURES"))) {
            binaries = f.equals("getbinpkg") || (binaries && !f.equals("-getbinpkg"));
        }
        List<String> exclude = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String next = i + 1 < args.size() ? args.get(i + 1) : "";
            if (a.startsWith("--")) {
                String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
                if (List.of("--usepkg", "--usepkgonly", "--getbinpkg", "--getbinpkgonly").contains(name)) {
                    String value = a.contains("=") ? a.substring(a.indexOf('=') + 1)
                            : next.equals("y") || next.equals("n") ? next : "y";
                    binaries = !value.equals("n");
                } else if (name.equals("--usepkg-exclude")) {
                    exclude.addAll(words(a.contains("=") ? a.substring(a.indexOf('=') + 1) : next));
                }
            } else if (a.startsWith("-") && a.length() > 1 && a.substring(1).chars().allMatch(Character::isLetterOrDigit)
                    && a.substring(1).chars().anyMatch(c -> "kKgG".indexOf(c) >= 0)) {
                binaries = true;
            }
        }
        String pkgdir = conf.get("PKGDIR").isBlank() ? DEFAULT_PKGDIR : conf.get("PKGDIR");
        List<String> use = new ArrayList<>();
        for (MakeConf.Assignment a : conf.assignments()) {
            if (a.name().equals("USE")) {
                for (String f : words(a.value())) {
                    if (f.equals("-*")) {
                        use.clear();
                    } else if (f.startsWith("-")) {
                        use.remove(f.substring(1));
                    } else if (!use.contains(f)) {
                        use.add(f);
                    }
                }
            }
        }
        return new SlaveFacts(optional(conf.get("CHOST")), words(conf.get("ACCEPT_CHOSTS")),
                optional(conf.get("ARCH")), Path.of(pkgdir), binaries, exclude, use, List.of(), notes);
    }

    /** Parents first, then this directory's make.defaults, as Portage stacks a profile. */
    private static void profile(Path dir, String name, List<MakeConf.Source> into, List<String> notes,
            Set<Path> seen, int depth) {
        try {
            Path real = dir.toRealPath();
            if (depth > MAX_PROFILE_DEPTH || !seen.add(real)) {
                notes.add("profile " + dir + ": parent chain loops or is deeper than " + MAX_PROFILE_DEPTH);
                return;
            }
            Path parent = real.resolve("parent");
            if (Files.isRegularFile(parent)) {
                for (String line : Files.readAllLines(parent, StandardCharsets.UTF_8)) {
                    String p = line.strip();
                    if (p.isEmpty() || p.startsWith("#")) {
                        continue;
                    }
                    if (p.contains(":")) {
                        notes.add("profile " + real + ": parent '" + p + "' names a repository; not followed");
                        continue;
                    }
                    profile(real.resolve(p).normalize(), name + "/" + p, into, notes, seen, depth + 1);
                }
            }
            Path defaults = real.resolve("make.defaults");
            if (Files.isRegularFile(defaults)) {
                into.add(new MakeConf.Source(name + "/make.defaults",
                        Files.readString(defaults, StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            notes.add("cannot read profile " + dir + ": " + e.getMessage());
        }
    }

    private static Optional<String> optional(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
    }

    private static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        for (String w : (s == null ? "" : s).strip().split("\\s+")) {
            if (!w.isEmpty()) {
                out.add(w.replaceAll("^['\"]|['\"]$", ""));
            }
        }
        return out;
    }
}
