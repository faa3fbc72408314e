package dev.binhost.agent.emerge;

import java.util.List;

/**
 * Why emerge compiles a package locally, as far as its output tells.
 *
 * @param kind          the cause
 * @param flags         for {@link Kind#USE_DIFFERS}: the flags that differ, as this machine wants them
 * @param binaryFlags   for {@link Kind#USE_DIFFERS}: the same flags as the master's binary has them
 * @param text          one sentence for reports
 */
public record CompileReason(Kind kind, List<String> flags, List<String> binaryFlags, String text) {

    /** The causes emerge's output can show. */
    public enum Kind {
        /** emerge listed the binary under "ignored due to non matching USE". */
        USE_DIFFERS,
        /** Other packages come as binaries, this one has none for this version (or it was rejected silently). */
        NO_BINARY,
        /** No package at all comes as a binary: no PKGDIR, no --usepkg, or every binary rejected (e.g. CHOST). */
        NO_USABLE_BINARIES
    }

    public CompileReason {
        flags = List.copyOf(flags);
        binaryFlags = List.copyOf(binaryFlags);
    }
}
