package dev.binhost.agent.emerge;

import dev.binhost.agent.portage.BinpkgIndex;
import dev.binhost.agent.portage.SlaveFacts;
import io.quarkus.logging.Log;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why a package of the plan is compiled here, told from what emerge printed, the master's {@code Packages} index
 * and this slave's facts. Pure functions; {@link EmergePlan#withReasons} applies them to a plan.
 *
 * <p>In order, the first that holds: binaries not wanted here (no --usepkg, or --usepkg-exclude names it); emerge
 * listed the binary as ignored for its USE or for changed dependencies; the master has no binary of this version
 * (naming the versions it has); its index is for another ARCH; its binaries are for another CHOST; their USE
 * differs from the flags the plan line wants (naming the flags, both sides); else the binary matches and emerge
 * still built it, which Portage does when the binary's dependencies changed (--binpkg-changed-deps) or a
 * dependency's slot or sub-slot changed (the {@code r} flag).
 */
public final class BuildReasons {
    private static final Pattern CHANGED_DEPS_ENTRY = Pattern.compile("^\\s+(\\S+?)(?:::\\S+)?(?:\\s.*)?$");

    private BuildReasons() {
    }

    /**
     * The run's plan step: the compiled packages' reasons from the master's index in PKGDIR and this slave's
     * facts (make.conf, its profile, {@code args}). When the index cannot be used the plan keeps the reasons
     * emerge's output gives, with a warning notice saying why. Under binaries only ({@link UsepkgOnly}) the
     * packages emerge dropped are named with why in a notice of their own. A plan that compiles and drops nothing
     * is returned as is, and nothing is read.
     */
    public static EmergePlan explain(EmergePlan plan, Path makeConf, List<String> args) {
        return explain(plan, makeConf, args, Optional.empty());
    }

    /** The same with the binhost's index read from {@code index} (an HTTP binhost's copy) instead of PKGDIR's. */
    public static EmergePlan explain(EmergePlan plan, Path makeConf, List<String> args, Optional<Path> index) {
        boolean dropped = UsepkgOnly.asked(args) && !UsepkgOnly.droppedAtoms(plan).isEmpty();
        if (plan.compiled().isEmpty() && !dropped) {
            return plan;
        }
        SlaveFacts facts = SlaveFacts.read(makeConf, args);
        facts.notes().forEach(n -> Log.debugf("Reasons for local builds: %s", n));
        BinpkgIndex master = null;
        String problem = null;
        try {
            master = BinpkgIndex.read(index.orElse(facts.packagesFile()), BinpkgIndex.DEFAULT_MAX_BYTES);
        } catch (BinpkgIndex.Unreadable e) {
            Log.warnf("Reasons for local builds from emerge's output only: %s", e.getMessage());
            problem = e.getMessage();
        }
        EmergePlan explained = master != null ? plan.withReasons(master, facts) : plan.withoutIndex(problem, facts);
        return dropped ? UsepkgOnly.withDropped(explained, Optional.ofNullable(master), problem, facts) : explained;
    }

    /** The reason of one {@code [ebuild]} line, with the master's index. */
    static CompileReason of(PlannedPackage p, EmergePlan plan, BinpkgIndex index, SlaveFacts facts) {
        Optional<CompileReason> asked = localBuildAsked(p, facts);
        if (asked.isPresent()) {
            return asked.get();
        }
        List<String> ignoredFlags = plan.ignoredBinaries().get(p.cpv());
        if (ignoredFlags != null) {
            return EmergePlan.useDiffers(p, ignoredFlags);
        }
        if (changedDeps(plan).contains(p.cpv())) {
            return CompileReason.of(CompileReason.Kind.DEPS_CHANGED,
                    "emerge ignored the master's binary: its dependencies changed");
        }
        return fromIndex(p, index, facts);
    }

    /** The reason from the index and the facts alone, past what emerge printed. */
    private static CompileReason fromIndex(PlannedPackage p, BinpkgIndex index, SlaveFacts facts) {
        List<BinpkgIndex.Entry> builds = index.of(p.atom(), p.version());
        if (builds.isEmpty()) {
            return noBinary(p, index);
        }
        if (index.arch().isPresent() && facts.arch().isPresent() && !index.arch().get().equals(facts.arch().get())) {
            return CompileReason.of(CompileReason.Kind.ARCH_DIFFERS, "ARCH differs: master " + index.arch().get()
                    + ", this machine " + facts.arch().get());
        }
        List<BinpkgIndex.Entry> accepted = builds.stream().filter(b -> facts.acceptsChost(b.chost())).toList();
        if (accepted.isEmpty()) {
            return CompileReason.of(CompileReason.Kind.CHOST_DIFFERS, "CHOST differs: binary "
                    + String.join(" ", builds.stream().map(BinpkgIndex.Entry::chost).distinct().toList())
                    + ", this machine " + facts.chostShown());
        }
        Diff first = null;
        for (BinpkgIndex.Entry b : accepted) {
            Diff d = diff(p, b);
            if (d.here().isEmpty()) {
                return matching(p, b);
            }
            first = first == null ? d : first;
        }
        return new CompileReason(CompileReason.Kind.USE_DIFFERS, first.here(), first.binary(),
                "USE differs from the master's binary: binary has " + String.join(" ", first.binary())
                        + ", this machine wants " + String.join(" ", first.here()));
    }

    /** The reason without the master's index: what emerge's output and this slave's facts tell. */
    static Optional<CompileReason> withoutIndex(PlannedPackage p, EmergePlan plan, SlaveFacts facts) {
        Optional<CompileReason> asked = localBuildAsked(p, facts);
        if (asked.isPresent()) {
            return asked;
        }
        if (!plan.ignoredBinaries().containsKey(p.cpv()) && changedDeps(plan).contains(p.cpv())) {
            return Optional.of(CompileReason.of(CompileReason.Kind.DEPS_CHANGED,
                    "emerge ignored the master's binary: its dependencies changed"));
        }
        return Optional.empty();
    }

    /**
     * The plan's packages for which the master has no usable binary, as far as the index tells: no binary of the
     * version, another CHOST, or other USE. For a run with {@code --usepkgonly}, where emerge drops such packages
     * instead of building them; binaries in the plan are usable by definition and not checked.
     */
    static Optional<CompileReason> unusable(PlannedPackage p, BinpkgIndex index, SlaveFacts facts) {
        CompileReason r = fromIndex(p, index, facts);
        return r.kind() == CompileReason.Kind.DEPS_CHANGED ? Optional.empty() : Optional.of(r);
    }

    private static Optional<CompileReason> localBuildAsked(PlannedPackage p, SlaveFacts facts) {
        if (!facts.usesBinaries()) {
            return Optional.of(CompileReason.of(CompileReason.Kind.LOCAL_REBUILD,
                    "binaries not wanted: emerge runs without --usepkg"));
        }
        return facts.excludedFromBinaries(p.atom()).map(pattern -> CompileReason.of(
                CompileReason.Kind.LOCAL_REBUILD, "binaries not wanted: --usepkg-exclude " + pattern));
    }

    private static CompileReason noBinary(PlannedPackage p, BinpkgIndex index) {
        List<String> versions = index.of(p.atom()).stream().map(BinpkgIndex.Entry::version).distinct().toList();
        return CompileReason.of(CompileReason.Kind.NO_BINARY, "no binary of " + p.cpv() + " on the master"
                + (versions.isEmpty() ? " (none of " + p.atom() + ")" : " (it has " + String.join(", ", versions) + ")"));
    }

    private static CompileReason matching(PlannedPackage p, BinpkgIndex.Entry b) {
        String binary = "the master's binary " + b.shown() + " matches USE and CHOST";
        return CompileReason.of(CompileReason.Kind.DEPS_CHANGED, p.hasFlag('r')
                ? binary + "; rebuilt for a changed slot or sub-slot of a dependency"
                : binary + "; emerge still built it (changed dependencies, --binpkg-changed-deps)");
    }

    /** The flags of the plan line whose setting the binary does not have: as wanted here, as the binary has them. */
    record Diff(List<String> here, List<String> binary) {
    }

    static Diff diff(PlannedPackage p, BinpkgIndex.Entry b) {
        Set<String> iuse = b.iuse();
        Set<String> use = b.use();
        List<String> here = new ArrayList<>();
        List<String> binary = new ArrayList<>();
        for (Map.Entry<String, List<UseFlag>> var : p.variables().entrySet()) {
            String prefix = var.getKey().equals("USE") ? "" : var.getKey().toLowerCase(Locale.ROOT) + "_";
            for (UseFlag f : var.getValue()) {
                String name = prefix + f.name();
                boolean built = iuse.contains(name) && use.contains(name);
                if (built != f.enabled()) {
                    here.add((f.enabled() ? "" : "-") + name);
                    binary.add((built ? "" : "-") + name);
                }
            }
        }
        return new Diff(here, binary);
    }

    /** The CPVs emerge listed under "ignored due to changed dependencies". */
    static Set<String> changedDeps(EmergePlan plan) {
        Set<String> out = new LinkedHashSet<>();
        plan.notices().stream().filter(n -> n.kind().equals("ignored-changed-deps")).forEach(n -> {
            for (String line : n.lines().subList(Math.min(1, n.lines().size()), n.lines().size())) {
                Matcher m = CHANGED_DEPS_ENTRY.matcher(line);
                if (m.matches() && m.group(1).contains("/")) {
                    out.add(m.group(1));
                }
            }
        });
        return out;
    }
}
