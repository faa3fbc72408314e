package dev.binhost.agent.portage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What emerge itself wrote to {@code /var/log/emerge.log} from a byte offset on: one {@link Session} per
 * {@code Started emerge on:} line, and in it, per package, whether it started, came as a binary or was built
 * here, and completed. The lines carry the package's name, so parallel jobs ({@code --jobs}) that interleave and
 * the renumbering of {@code --keep-going} ({@code (1 of 5)} after {@code (10 of 11)}) change nothing.
 *
 * <p>The lines read (from Portage 3.0.82, {@code MergeListItem}, {@code Binpkg}, {@code EbuildBuild},
 * {@code EbuildMerge}, {@code post_emerge}):
 * <pre>
 * 1795486826: Started emerge on: Nov 24, 2026 02:20:26
 * 1795486826:  *** emerge --update --deep … @world
 * 1795486826:  >>> emerge (1 of 10) sys-apps/demo-baselayout-2.14 to /
 * 1795486826:  === (1 of 10) Merging Binary (sys-apps/demo-baselayout-2.14::/var/cache/binpkgs/…gpkg.tar)
 * 1795486835:  === (7 of 10) Compiling/Merging (dev-libs/libdemo-1.2.3::/var/db/repos/gentoo/…ebuild)
 * 1795486827:  ::: completed emerge (1 of 10) sys-apps/demo-baselayout-2.14 to /
 * 1795486875:  *** exiting unsuccessfully with status '1'.
 * </pre>
 * A package that started and never completed in its session failed (or was stopped). A pretend run writes
 * nothing here.
 */
public final class EmergeLog {
    /** At most this much of the log is read from an offset: a run's lines are a few hundred bytes a package. */
    public static final long MAX_READ = 32L << 20;

    private static final Pattern LINE = Pattern.compile("^(\\d+): (.*)$");
    private static final Pattern START = Pattern.compile("^ >>> emerge \\((\\d+) of (\\d+)\\) (\\S+) to (\\S+)$");
    private static final Pattern STEP = Pattern.compile(
            "^ (===|---) \\((\\d+) of (\\d+)\\) (Merging Binary|Fetching Binary|Compiling/Merging|Compiling/Packaging"
                    + "|Cleaning|Merging|Post-Build Cleaning|Updating world file) \\(([^:)\\s]+)(?:::.*)?\\)$");
    private static final Pattern DONE = Pattern.compile("^ ::: completed emerge \\((\\d+) of (\\d+)\\) (\\S+) to (\\S+)$");
    private static final Pattern EXIT = Pattern.compile("^ \\*\\*\\* exiting (successfully|unsuccessfully with status '(\\d+)')\\.$");
    private static final Pattern UNMERGED = Pattern.compile("^ >>> unmerge success: (\\S+)$");

    private EmergeLog() {
    }

    /** How a package reached the system, as emerge logged it. */
    public enum Source {
        /** {@code Merging Binary}: installed from a binary package (a local or, with getbinpkg, fetched one). */
        BINARY,
        /** {@code Compiling/Merging} or {@code Compiling/Packaging}: built from its ebuild on this machine. */
        BUILT,
        /** Started, but no line yet says which. */
        UNKNOWN
    }

    /** One package of a session as the log shows it. */
    public record Package(String cpv, Source source, boolean fetched, boolean completed, int index, int total,
            long startedAt, long endedAt) {
        Package merge(Source s, boolean fetch) {
            return new Package(cpv, s == Source.UNKNOWN ? source : s, fetched || fetch, completed, index, total,
                    startedAt, endedAt);
        }
    }

    /**
     * One emerge process's lines, {@code Started emerge on:} to {@code *** terminating.}.
     *
     * @param arguments  the options emerge logged ({@code --jobs=2 --keep-going …}), as it normalised them
     * @param packages   every package the session started, in the order they started
     * @param exitStatus emerge's exit status as logged; empty while it runs or when it was killed
     * @param unmerged   packages removed by this session ({@code >>> unmerge success:})
     * @param resumed    a {@code --resume} session ({@code *** Resuming merge...})
     */
    public record Session(long startedAt, String arguments, List<Package> packages, OptionalInt exitStatus,
            boolean terminated, List<String> unmerged, boolean resumed) {
        public Session {
            packages = List.copyOf(packages);
            unmerged = List.copyOf(unmerged);
        }

        public List<Package> completed() {
            return packages.stream().filter(Package::completed).toList();
        }

        /** Started and not completed: failed, or in progress while the session runs. */
        public List<Package> unfinished() {
            return packages.stream().filter(p -> !p.completed()).toList();
        }

        public long completedFrom(Source source) {
            return completed().stream().filter(p -> p.source() == source).count();
        }
    }

    /** What was read: the sessions, the offset just past the last whole line, and whether the log was rotated. */
    public record Read(List<Session> sessions, long end, boolean rotated) {
        public Read {
            sessions = List.copyOf(sessions);
        }

        /** The last session, the one a run started from this offset wrote, if any. */
        public Optional<Session> last() {
            return sessions.isEmpty() ? Optional.empty() : Optional.of(sessions.get(sessions.size() - 1));
        }
    }

    /** The log's size now: a run notes it before emerge starts and reads from there. 0 when there is no log. */
    public static long end(Path log) throws IOException {
        try {
            return Files.size(log);
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    /**
     * Reads the sessions that start at or after {@code offset}. A log shorter than the offset was rotated (or
     * replaced): it is read from its beginning and {@link Read#rotated()} says so. A missing log reads as empty.
     * Lines that are not emerge's (a partial last line, a foreign line) are skipped.
     */
    public static Read read(Path log, long offset) throws IOException {
        long size = end(log);
        boolean rotated = size < offset;
        long from = rotated ? 0 : offset;
        if (size == 0) {
            return new Read(List.of(), 0, rotated);
        }
        byte[] bytes;
        try (SeekableByteChannel ch = Files.newByteChannel(log)) {
            long len = Math.min(size - from, MAX_READ);
            ch.position(from);
            ByteBuffer buf = ByteBuffer.allocate((int) len);
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // fill
            }
            bytes = java.util.Arrays.copyOf(buf.array(), buf.position());
        }
        int lastNewline = -1;
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] == '\n') {
                lastNewline = i;
                break;
            }
        }
        String text = decode(bytes, lastNewline + 1);
        return new Read(parse(text), from + lastNewline + 1, rotated);
    }

    /** Parses log text (whole lines); lines before the first {@code Started emerge on:} are ignored. */
    public static List<Session> parse(String text) {
        List<Session> sessions = new ArrayList<>();
        Builder current = null;
        for (String raw : text.split("\n")) {
            Matcher m = LINE.matcher(raw);
            if (!m.matches()) {
                continue;
            }
            long time = m.group(1).length() > 15 ? 0 : Long.parseLong(m.group(1));
            String body = m.group(2);
            if (body.startsWith("Started emerge on:")) {
                if (current != null) {
                    sessions.add(current.build());
                }
                current = new Builder(time);
                continue;
            }
            if (current != null) {
                current.accept(time, body);
            }
        }
        if (current != null) {
            sessions.add(current.build());
        }
        return sessions;
    }

    private static String decode(byte[] bytes, int len) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(bytes, 0, len)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e); // REPLACE never throws
        }
    }

    private static final class Builder {
        private final long startedAt;
        private String arguments = "";
        private final Map<String, Package> packages = new LinkedHashMap<>();
        private Integer exit;
        private boolean terminated;
        private boolean resumed;
        private final List<String> unmerged = new ArrayList<>();

        Builder(long startedAt) {
            this.startedAt = startedAt;
        }

        void accept(long time, String body) {
            if (body.startsWith(" *** emerge ") && arguments.isEmpty()) {
                arguments = body.substring(" *** emerge ".length()).strip();
                return;
            }
            if (body.equals(" *** Resuming merge...")) {
                resumed = true;
                return;
            }
            if (body.equals(" *** terminating.")) {
                terminated = true;
                return;
            }
            Matcher m = START.matcher(body);
            if (m.matches()) {
                // a package started again in one session (keep-going retries do not; a second instance would)
                packages.put(m.group(3), new Package(m.group(3), Source.UNKNOWN, false, false,
                        Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), time, 0));
                return;
            }
            m = STEP.matcher(body);
            if (m.matches()) {
                Package p = packages.get(m.group(5));
                if (p != null) {
                    String step = m.group(4);
                    Source s = switch (step) {
                        case "Merging Binary" -> Source.BINARY;
                        case "Compiling/Merging", "Compiling/Packaging" -> Source.BUILT;
                        default -> Source.UNKNOWN;
                    };
                    packages.put(p.cpv(), p.merge(s, step.equals("Fetching Binary")));
                }
                return;
            }
            m = DONE.matcher(body);
            if (m.matches()) {
                Package p = packages.get(m.group(3));
                if (p != null) {
                    packages.put(p.cpv(), new Package(p.cpv(), p.source(), p.fetched(), true, p.index(), p.total(),
                            p.startedAt(), time));
                }
                return;
            }
            m = EXIT.matcher(body);
            if (m.matches()) {
                exit = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
                return;
            }
            m = UNMERGED.matcher(body);
            if (m.matches()) {
                unmerged.add(m.group(1));
            }
        }

        Session build() {
            return new Session(startedAt, arguments, List.copyOf(packages.values()),
                    exit == null ? OptionalInt.empty() : OptionalInt.of(exit), terminated, unmerged, resumed);
        }
    }
}
