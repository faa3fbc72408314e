package dev.binhost.agent.emerge;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One line of emerge's merge list: {@code [binary  rR    ] app-misc/demo-cli-2.0-2::gentoo  USE="nls -debug" 0 KiB}.
 *
 * @param flags      the letters of the status column (N, U, D, R, r, F, f, I, B, b, S, #, *, ~, …), spaces removed
 * @param atom       category/package name, without version
 * @param version    the version (with -rN), without a binary package's build id
 * @param buildId    the binary package's BUILD_ID (the "-1" in {@code 2.14-1}), for {@code [binary]} lines
 * @param previous   the installed version being replaced ({@code [1.2.3:0/1::gentoo]}) for upgrades/downgrades
 * @param variables  USE and USE_EXPAND variables (PYTHON_TARGETS, …) in the order shown
 * @param reason     why this package is compiled here instead of installed from the master's binary; empty
 *                   for binaries and uninstalls
 */
public record PlannedPackage(
        Kind kind,
        String flags,
        String atom,
        String version,
        OptionalInt buildId,
        Optional<String> slot,
        Optional<String> repository,
        Optional<String> previous,
        Map<String, List<UseFlag>> variables,
        OptionalLong sizeKiB,
        Optional<CompileReason> reason) {

    /** What emerge will do with the package. */
    public enum Kind {
        /** Installed from a binary package (the master's). */
        BINARY,
        /** Built from source on this machine. */
        EBUILD,
        /** Removed (a soft blocker resolved by uninstalling). */
        UNINSTALL,
        /** Already installed, listed for a dependency only. */
        NOMERGE
    }

    /** "app-misc/demo-cli-2.0". */
    public String cpv() {
        return atom + "-" + version;
    }

    public boolean hasFlag(char flag) {
        return flags.indexOf(flag) >= 0;
    }

    /**
     * A binary emerge fetches from a binhost ({@code [binary  N g   ]}, recorded with --getbinpkg), not one
     * already in the local PKGDIR (an NFS-mounted one included).
     */
    public boolean remote() {
        return kind == Kind.BINARY && hasFlag('g');
    }

    /** The USE variable's flags, or an empty list when the line shows none. */
    public List<UseFlag> use() {
        return variables.getOrDefault("USE", List.of());
    }

    PlannedPackage withReason(CompileReason why) {
        return new PlannedPackage(kind, flags, atom, version, buildId, slot, repository, previous, variables,
                sizeKiB, Optional.of(why));
    }
}
