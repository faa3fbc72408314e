package dev.binhost.agent.mount;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the slave's DISTDIR and PKGDIR inside a read-only share. The seed's warning: a slave writing into the
 * master's read-only tree fails, so DISTDIR must be local; PKGDIR may be the share only while the slave does not
 * build packages of its own (FEATURES=buildpkg). Works on paths as written, never touching a mount.
 */
@ApplicationScoped
public class Preflight {
    /** Portage's defaults (make.globals) when make.conf does not set them. */
    static final String DEFAULT_DISTDIR = "/var/cache/distfiles";
    static final String DEFAULT_PKGDIR = "/var/cache/binpkgs";

    /** ERROR: emerge will fail; WARNING: it fails in some runs; OK: checked and fine. */
    public enum Severity { OK, WARNING, ERROR }

    /** One checked setting: its value, and what is wrong with it if anything. */
    public record Finding(Severity severity, String variable, String value, String message) {
    }

    private final MountManager mounts;

    @Inject
    public Preflight(MountManager mounts) {
        this.mounts = mounts;
    }

    /** Reads make.conf and the mount table now; the {@code binhost-agent check} command prints the result. */
    public List<Finding> check() {
        Path makeConf = mounts.config().makeConf();
        Map<String, String> vars;
        MountTable table;
        try {
            vars = MakeConf.load(makeConf);
        } catch (IOException e) {
            return List.of(new Finding(Severity.ERROR, "make.conf", makeConf.toString(),
                    "cannot read " + makeConf + ": " + e.getMessage()));
        }
        try {
            table = mounts.table();
        } catch (IOException | IllegalArgumentException e) {
            return List.of(new Finding(Severity.ERROR, "mountinfo", mounts.config().mountinfo().toString(),
                    "cannot read the mount table: " + e.getMessage()));
        }
        return check(vars, table, mounts.config().mounts());
    }

    /** Pure: the findings for these make.conf variables, this mount table and these configured mounts. */
    static List<Finding> check(Map<String, String> vars, MountTable table, Map<String, MountConfig.MountSpec> specs) {
        List<Finding> out = new ArrayList<>();
        boolean buildpkg = List.of(vars.getOrDefault("FEATURES", "").split("\\s+")).contains("buildpkg");
        for (String var : List.of("DISTDIR", "PKGDIR")) {
            boolean set = vars.containsKey(var) && !vars.get(var).isBlank();
            String value = set ? vars.get(var) : var.equals("DISTDIR") ? DEFAULT_DISTDIR : DEFAULT_PKGDIR;
            String shown = set ? value : value + " (Portage default)";
            Path path = Path.of(value);
            if (!path.isAbsolute()) {
                out.add(new Finding(Severity.ERROR, var, value, var + " must be an absolute path, is " + value));
                continue;
            }
            Optional<String> readOnly = readOnlyShare(path.normalize(), table, specs);
            if (readOnly.isEmpty()) {
                out.add(new Finding(Severity.OK, var, shown, var + " " + shown + " is not on a read-only share"));
            } else if (var.equals("DISTDIR")) {
                out.add(new Finding(Severity.ERROR, var, shown, "DISTDIR " + shown + " is inside " + readOnly.get()
                        + ": emerge cannot fetch sources for packages it must build here. Set DISTDIR to a local "
                        + "directory in a 02* make.conf file, e.g. DISTDIR=\"/var/cache/distfiles-local\""));
            } else if (buildpkg) {
                out.add(new Finding(Severity.ERROR, var, shown, "PKGDIR " + shown + " is inside " + readOnly.get()
                        + " and FEATURES contains buildpkg: packages built here cannot be saved. Remove buildpkg "
                        + "from the slave's FEATURES or point PKGDIR at a local directory"));
            } else {
                out.add(new Finding(Severity.OK, var, shown, "PKGDIR " + shown + " is the read-only share "
                        + readOnly.get() + ": fine for --usepkg while the slave does not build packages"));
            }
        }
        return out;
    }

    /** The read-only share the path lies in: an agent-managed read-only mount, or a mount that is ro now. */
    static Optional<String> readOnlyShare(Path path, MountTable table, Map<String, MountConfig.MountSpec> specs) {
        for (Map.Entry<String, MountConfig.MountSpec> e : specs.entrySet()) {
            if (path.startsWith(e.getValue().target()) && e.getValue().readOnly()) {
                return Optional.of("the read-only mount '" + e.getKey() + "' at " + e.getValue().target());
            }
        }
        return table.containing(path).filter(MountEntry::readOnly)
                .map(m -> "the read-only mount " + m.mountPoint() + " (" + m.describe() + ")");
    }
}
