package dev.binhost.agent.mount;

import dev.binhost.agent.portage.Finding;
import dev.binhost.agent.portage.MakeConf;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one DISTDIR/PKGDIR preflight (the mount manager's and {@code binhost-agent check}'s): finds them inside a
 * read-only share. The seed's warning: a slave writing into the master's read-only tree fails, so DISTDIR must be
 * local; PKGDIR may be the share only while the slave does not build packages of its own (FEATURES=buildpkg).
 * Works on paths as written and on the text of mountinfo, never touching a mount.
 */
@ApplicationScoped
public class PortageDirs {
    /** Portage's defaults (make.globals) when make.conf does not set them. */
    public static final String DEFAULT_DISTDIR = "/var/cache/distfiles";
    public static final String DEFAULT_PKGDIR = "/var/cache/binpkgs";

    private final MountManager mounts;

    @Inject
    public PortageDirs(MountManager mounts) {
        this.mounts = mounts;
    }

    /** Reads the configured make.conf and the mount table now and checks them with the configured mounts. */
    public List<Finding> check() {
        Path makeConf = mounts.config().makeConf();
        MakeConf.Evaluation conf;
        MountTable table;
        try {
            conf = MakeConf.load(makeConf);
        } catch (IOException e) {
            return List.of(Finding.problem("make.conf", "cannot read " + makeConf + ": " + e.getMessage(),
                    "check binhost.mount.make-conf and the file's permissions"));
        }
        try {
            table = mounts.table();
        } catch (IOException | IllegalArgumentException e) {
            return List.of(Finding.problem("mountinfo", "cannot read the mount table "
                    + mounts.config().mountinfo() + ": " + e.getMessage(), "check binhost.mount.mountinfo"));
        }
        return check(conf, table, readOnlyTargets(mounts.config().mounts()));
    }

    /** name → target of the configured mounts that are read-only, whether or not they are mounted now. */
    public static Map<String, Path> readOnlyTargets(Map<String, MountConfig.MountSpec> specs) {
        Map<String, Path> out = new LinkedHashMap<>();
        specs.forEach((name, spec) -> {
            if (spec.readOnly()) {
                out.put(name, spec.target());
            }
        });
        return out;
    }

    /**
     * Pure: the findings for this make.conf, this mount table and these read-only mounts of the agent (name →
     * target). Nothing is returned for a directory that is fine.
     */
    public static List<Finding> check(MakeConf.Evaluation conf, MountTable table, Map<String, Path> readOnlyMounts) {
        List<Finding> out = new ArrayList<>();
        distdir(conf, table, readOnlyMounts, out);
        pkgdir(conf, table, readOnlyMounts, out);
        return out;
    }

    private static void distdir(MakeConf.Evaluation conf, MountTable table, Map<String, Path> readOnlyMounts,
            List<Finding> out) {
        String fix = "set DISTDIR=\"" + DEFAULT_DISTDIR + "\" (a local, writable directory) in " + conf.slaveFile();
        Optional<Path> path = absolute("DISTDIR", conf, DEFAULT_DISTDIR, fix, out);
        if (path.isEmpty()) {
            return;
        }
        String shown = shown(conf, "DISTDIR", path.get());
        Optional<String> readOnly = readOnlyShare(path.get(), table, readOnlyMounts);
        Optional<MountEntry> on = table.containing(path.get());
        if (readOnly.isPresent()) {
            out.add(Finding.problem("DISTDIR", "DISTDIR " + shown + " is on " + readOnly.get()
                    + "; emerge cannot save downloads there", fix));
        } else if (on.isPresent() && on.get().isNfs()) {
            out.add(Finding.advice("DISTDIR", "DISTDIR " + shown + " is on the NFS share " + on.get().mountPoint()
                    + "; the slave would write into the master's tree", fix));
        }
        conf.last("DISTDIR").filter(a -> MakeConf.fileName(a.source()).startsWith("01")).ifPresent(a -> out.add(
                Finding.advice("DISTDIR", "DISTDIR comes from the master's " + a.source()
                        + "; the seed overrides it on the slave", fix)));
    }

    private static void pkgdir(MakeConf.Evaluation conf, MountTable table, Map<String, Path> readOnlyMounts,
            List<Finding> out) {
        String fix = "remove buildpkg from FEATURES in " + conf.slaveFile() + " (the slave installs the master's "
                + "packages), or set PKGDIR to a local directory there";
        Optional<Path> path = absolute("PKGDIR", conf, DEFAULT_PKGDIR, fix, out);
        if (path.isEmpty() || !buildsPackages(conf.get("FEATURES"))) {
            return;
        }
        readOnlyShare(path.get(), table, readOnlyMounts).ifPresent(share -> out.add(Finding.problem("PKGDIR",
                "PKGDIR " + shown(conf, "PKGDIR", path.get()) + " is on " + share + " and FEATURES contains "
                        + "buildpkg: packages built here cannot be saved", fix)));
    }

    /** The directory make.conf sets (or Portage's default); a relative one is a problem and gives none. */
    private static Optional<Path> absolute(String var, MakeConf.Evaluation conf, String byDefault, String fix,
            List<Finding> out) {
        String value = conf.get(var).isBlank() ? byDefault : conf.get(var).strip();
        Path path = Path.of(value);
        if (!path.isAbsolute()) {
            out.add(Finding.problem(var, var + " must be an absolute path, is " + value, fix));
            return Optional.empty();
        }
        return Optional.of(path.normalize());
    }

    private static String shown(MakeConf.Evaluation conf, String var, Path path) {
        return conf.get(var).isBlank() ? path + " (Portage default)" : path.toString();
    }

    /** FEATURES is incremental: a later "-buildpkg" (or "-*") cancels an earlier "buildpkg". */
    static boolean buildsPackages(String features) {
        boolean on = false;
        for (String f : features.strip().split("\\s+")) {
            if (f.equals("buildpkg")) {
                on = true;
            } else if (f.equals("-buildpkg") || f.equals("-*")) {
                on = false;
            }
        }
        return on;
    }

    /** The read-only share the path lies in: an agent-managed read-only mount, or a mount that is ro now. */
    static Optional<String> readOnlyShare(Path path, MountTable table, Map<String, Path> readOnlyMounts) {
        for (Map.Entry<String, Path> e : readOnlyMounts.entrySet()) {
            if (path.startsWith(e.getValue())) {
                return Optional.of("the agent's read-only mount '" + e.getKey() + "' at " + e.getValue());
            }
        }
        return table.containing(path).filter(MountEntry::readOnly).map(m -> "the read-only " + m.fsType()
                + " mount " + m.mountPoint() + " (" + m.source() + ")");
    }
}
