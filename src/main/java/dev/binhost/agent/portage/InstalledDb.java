package dev.binhost.agent.portage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The installed-package database, {@code /var/db/pkg/<category>/<name-version>/}, as far as a run's report
 * needs it: which packages are installed and each entry's {@code COUNTER}. Portage gives every merge the next
 * value of one global counter, so the packages a run merged are exactly the entries whose COUNTER is above the
 * highest one before the run: a reinstall of the same version included, nothing to snapshot but one number.
 *
 * <p>{@code BINPKGMD5} in an entry is not proof of a binary merge: Portage writes it for a package built here
 * with {@code FEATURES=buildpkg} too (the md5 of the binpkg it just made). Whether a package came as a binary is
 * read from {@link EmergeLog}; the entry's {@code BUILD_ID} names which build of the master it was.
 */
public final class InstalledDb {
    /** More entries than a real system has by far; a larger tree is not a vdb. */
    static final int MAX_ENTRIES = 100_000;

    /** One installed package. {@code counter} is empty for an entry without a readable COUNTER. */
    public record Entry(String cpv, OptionalLong counter, OptionalInt buildId, boolean hasBinpkgMd5) {
    }

    private final Map<String, Entry> entries;

    private InstalledDb(Map<String, Entry> entries) {
        this.entries = Map.copyOf(entries);
    }

    /** Reads the vdb at {@code vdb}; a missing directory is an empty database (nothing installed yet). */
    public static InstalledDb read(Path vdb) throws IOException {
        List<Entry> found = new ArrayList<>();
        try (DirectoryStream<Path> categories = Files.newDirectoryStream(vdb)) {
            for (Path category : categories) {
                if (!Files.isDirectory(category) || category.getFileName().toString().startsWith(".")) {
                    continue;
                }
                try (DirectoryStream<Path> packages = Files.newDirectoryStream(category)) {
                    for (Path pkg : packages) {
                        String pf = pkg.getFileName().toString();
                        // "-MERGING-" entries are a merge in progress, not an installed package
                        if (pf.startsWith("-MERGING-") || pf.startsWith(".") || !Files.isDirectory(pkg)) {
                            continue;
                        }
                        if (found.size() >= MAX_ENTRIES) {
                            throw new IOException(vdb + " has more than " + MAX_ENTRIES + " entries; not a vdb");
                        }
                        found.add(new Entry(category.getFileName() + "/" + pf, number(pkg.resolve("COUNTER")),
                                small(pkg.resolve("BUILD_ID")).flatMap(InstalledDb::integer)
                                        .map(OptionalInt::of).orElse(OptionalInt.empty()),
                                Files.exists(pkg.resolve("BINPKGMD5"))));
                    }
                }
            }
        } catch (NoSuchFileException e) {
            return new InstalledDb(Map.of());
        }
        return new InstalledDb(found.stream().collect(Collectors.toMap(Entry::cpv, Function.identity(), (a, b) -> a)));
    }

    public Optional<Entry> get(String cpv) {
        return Optional.ofNullable(entries.get(cpv));
    }

    public boolean isInstalled(String cpv) {
        return entries.containsKey(cpv);
    }

    public int size() {
        return entries.size();
    }

    /**
     * The highest COUNTER of any entry, -1 for an empty database (Portage gives the first merge COUNTER 0): a run
     * notes it before emerge starts.
     */
    public long highestCounter() {
        return entries.values().stream().mapToLong(e -> e.counter().orElse(-1)).max().orElse(-1);
    }

    /** The entries merged after {@code counter} was the highest, oldest merge first. */
    public List<Entry> mergedAfter(long counter) {
        return entries.values().stream().filter(e -> e.counter().isPresent() && e.counter().getAsLong() > counter)
                .sorted(Comparator.comparingLong(e -> e.counter().getAsLong())).toList();
    }

    private static OptionalLong number(Path file) throws IOException {
        return small(file).flatMap(s -> {
            try {
                long v = Long.parseLong(s);
                return v < 0 ? Optional.empty() : Optional.of(v);
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }).map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    private static Optional<Integer> integer(String s) {
        try {
            return Optional.of(Integer.parseInt(s));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** A one-value metadata file's content, stripped; empty when missing or larger than a value can be. */
    private static Optional<String> small(Path file) throws IOException {
        try {
            if (Files.size(file) > 64) {
                return Optional.empty();
            }
            return Optional.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }
}
