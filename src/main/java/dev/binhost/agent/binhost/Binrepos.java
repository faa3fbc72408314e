package dev.binhost.agent.binhost;

import dev.binhost.agent.master.HttpProbe;
import dev.binhost.agent.state.DurableFile;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Portage's {@code binrepos.conf}: a file, or a directory whose files are read in name order (hidden files and
 * {@code ~} backups skipped), each holding INI sections ({@code [name]}, {@code key = value}, {@code #} and
 * {@code ;} comments). The agent reads the admin's entries and keeps one of its own, never touching the others.
 */
public final class Binrepos {
    private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> SECRET = PosixFilePermissions.fromString("rw-------");

    private Binrepos() {
    }

    /** One section of one file. */
    public record Section(Path file, int line, String name, Map<String, String> values) {
        public Section {
            values = Map.copyOf(values);
        }

        public Optional<String> syncUri() {
            return Optional.ofNullable(values.get("sync-uri")).filter(s -> !s.isBlank());
        }

        /** verify-signature as Portage reads it: true unless set to a false word. */
        public boolean verifiesSignatures() {
            String v = values.getOrDefault("verify-signature", "true").strip().toLowerCase();
            return !(v.equals("false") || v.equals("no") || v.equals("0") || v.equals("off"));
        }
    }

    /** What {@link #ensure} found or did. */
    public record Ensured(boolean ok, boolean written, Path file, String detail) {
    }

    /** Every section of {@code binrepos} (a file or a directory); none when it does not exist. */
    public static List<Section> read(Path binrepos) throws IOException {
        List<Section> out = new ArrayList<>();
        if (Files.isDirectory(binrepos)) {
            List<Path> files;
            try (Stream<Path> s = Files.list(binrepos)) {
                files = s.filter(f -> !f.getFileName().toString().startsWith(".")
                                && !f.getFileName().toString().endsWith("~") && Files.isRegularFile(f))
                        .sorted().toList();
            }
            for (Path f : files) {
                out.addAll(parse(f, Files.readString(f, StandardCharsets.UTF_8)));
            }
        } else if (Files.exists(binrepos)) {
            out.addAll(parse(binrepos, Files.readString(binrepos, StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** The sections of one file's text; a line that is neither a section, a key nor a comment is an error. */
    static List<Section> parse(Path file, String text) throws IOException {
        List<Section> out = new ArrayList<>();
        String name = null;
        int start = 0;
        Map<String, String> values = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[") && line.endsWith("]")) {
                if (name != null) {
                    out.add(new Section(file, start, name, values));
                }
                name = line.substring(1, line.length() - 1).strip();
                start = i + 1;
                values = new LinkedHashMap<>();
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0 || name == null) {
                throw new IOException(file + " line " + (i + 1) + ": not '[section]' or 'key = value' in a section: '"
                        + (line.length() > 60 ? line.substring(0, 60) + "…" : line) + "'");
            }
            values.put(line.substring(0, eq).strip().toLowerCase(), line.substring(eq + 1).strip());
        }
        if (name != null) {
            out.add(new Section(file, start, name, values));
        }
        return out;
    }

    /** The agent's own file, as it should read. */
    static String render(PackagesConfig c, String configFile) {
        StringBuilder s = new StringBuilder();
        s.append("# Written by binhost-agent from binhost.packages.* (").append(configFile).append(").\n");
        s.append("# Edits here are overwritten: change the agent's configuration instead.\n");
        s.append('[').append(c.repoName()).append("]\n");
        s.append("priority = ").append(c.priority()).append('\n');
        s.append("sync-uri = ").append(c.url().orElseThrow()).append('\n');
        c.verifySignature().ifPresent(v -> s.append("verify-signature = ").append(v).append('\n'));
        return s.toString();
    }

    /** Same binhost: scheme, host, port and path, a trailing '/' ignored; credentials ignored. */
    static boolean sameBinhost(String syncUri, URI url) {
        try {
            URI a = URI.create(syncUri.strip());
            return key(a).equals(key(url));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String key(URI u) {
        String path = u.getPath() == null ? "" : u.getPath().replaceAll("/+$", "");
        int port = u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
        return String.valueOf(u.getScheme()).toLowerCase() + "://" + String.valueOf(u.getHost()).toLowerCase() + ":"
                + port + path;
    }

    /**
     * Makes Portage fetch from {@code c.url()}. Managed: writes the agent's own file when its content differs
     * (atomically; mode 0600 when the URL holds credentials), refusing a binrepos.conf that is a plain file (the
     * admin's) or a section of the same name in another file. Unmanaged: finds the admin's entry for the URL.
     * Nothing is written when the answer is not ok.
     */
    public static Ensured ensure(PackagesConfig c, String configFile) {
        return ensure(c, configFile, true);
    }

    /** {@link #ensure}; with {@code write} false nothing is written and a due write is reported as such. */
    public static Ensured ensure(PackagesConfig c, String configFile, boolean write) {
        Path dir = c.binrepos();
        Path own = c.ownEntry();
        String shown = HttpProbe.redacted(c.url().orElseThrow());
        List<Section> sections;
        try {
            sections = read(dir);
        } catch (IOException e) {
            return new Ensured(false, false, dir, "cannot read " + dir + ": " + e.getMessage());
        }
        if (!c.manageBinrepos()) {
            return sections.stream().filter(s -> s.syncUri().map(u -> sameBinhost(u, c.url().get())).orElse(false))
                    .findFirst()
                    .map(s -> new Ensured(true, false, s.file(), "the admin's entry [" + s.name() + "] in " + s.file()
                            + " (line " + s.line() + ")"))
                    .orElseGet(() -> new Ensured(false, false, dir, "no entry in " + dir + " has sync-uri = " + shown
                            + " (binhost.packages.manage-binrepos=false: add one, or let the agent keep its own)"));
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            return new Ensured(false, false, dir, dir + " is a file (the admin's); the agent keeps its entry in a"
                    + " file of its own there: make it a directory and move the file into it, or set"
                    + " binhost.packages.manage-binrepos=false and add an entry for " + shown);
        }
        for (Section s : sections) {
            if (s.name().equals(c.repoName()) && !s.file().equals(own)) {
                return new Ensured(false, false, s.file(), s.file() + " line " + s.line() + " already has a section ["
                        + s.name() + "]: rename it, or set binhost.packages.repo-name to another name");
            }
        }
        String want = render(c, configFile);
        try {
            String have = Files.readString(own, StandardCharsets.UTF_8);
            if (have.equals(want)) {
                return new Ensured(true, false, own, "the agent's entry [" + c.repoName() + "] in " + own);
            }
        } catch (NoSuchFileException e) {
            // written below
        } catch (IOException e) {
            return new Ensured(false, false, own, "cannot read " + own + ": " + e.getMessage());
        }
        if (!write) {
            return new Ensured(true, false, own, "the agent's entry [" + c.repoName() + "] in " + own
                    + (Files.exists(own) ? " differs from its configuration" : " is not there yet")
                    + "; the agent writes it before the next run");
        }
        try {
            DurableFile.replaceIn(own, want.getBytes(StandardCharsets.UTF_8),
                    c.url().get().getRawUserInfo() != null ? SECRET : PUBLIC);
        } catch (IOException e) {
            return new Ensured(false, false, own, "cannot write " + own + ": " + e.getMessage());
        }
        return new Ensured(true, true, own, "the agent's entry [" + c.repoName() + "] in " + own + " (written)");
    }
}
