package dev.binhost.agent.emerge;

import java.util.List;

/**
 * Why a package is compiled here instead of installed from the master's binary: from emerge's own output where
 * it says (the binaries it ignored), else from the master's {@code Packages} index compared with this slave
 * ({@link BuildReasons}). The kind's tag ({@link #tag()}) goes into the history, status and notify JSON.
 *
 * @param kind          the cause
 * @param flags         for {@link Kind#USE_DIFFERS}: the flags that differ, as this machine wants them
 * @param binaryFlags   for {@link Kind#USE_DIFFERS}: the same flags as the master's binary has them
 * @param text          one short sentence for reports
 */
public record CompileReason(Kind kind, List<String> flags, List<String> binaryFlags, String text) {

    /** The causes. Names are stable: their tags are stored in the history. */
    public enum Kind {
        /** The master's binary of this version was built with other USE flags (emerge said so, or its index). */
        USE_DIFFERS,
        /** The master has no binary of this version (or, without its index: emerge rejected it without saying). */
        NO_BINARY,
        /**
         * Without the master's index only: no package at all comes as a binary (no PKGDIR, no --usepkg, or every
         * binary rejected, e.g. for its CHOST); emerge does not say which.
         */
        NO_USABLE_BINARIES,
        /** The master's binaries are for another CHOST than this slave accepts. */
        CHOST_DIFFERS,
        /** The master's index is for another ARCH than this slave's. */
        ARCH_DIFFERS,
        /** The master's binary matches USE and CHOST; emerge rejected it for changed dependencies. */
        DEPS_CHANGED,
        /** A local build was asked for: emerge runs without --usepkg, or --usepkg-exclude names the package. */
        LOCAL_REBUILD;

        /** "use-differs", "no-binary", … as the history and notify JSON have it. */
        public String tag() {
            return name().toLowerCase().replace('_', '-');
        }
    }

    public CompileReason {
        flags = List.copyOf(flags);
        binaryFlags = List.copyOf(binaryFlags);
    }

    static CompileReason of(Kind kind, String text) {
        return new CompileReason(kind, List.of(), List.of(), text);
    }
}
