package dev.binhost.agent.portage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Reads make.conf the way Portage does for the master/slave arrangement: a file, or a directory tree whose files
 * are read in collating order (so the master's 01* come before the slave's 02*), with {@code ${VAR}} and
 * {@code $VAR} expanded against what earlier lines and files set. Only the shell subset make.conf allows; lines
 * outside it are reported with file and line, never silently dropped. Used by {@code binhost-agent check} and
 * by the mount preflight (DISTDIR/PKGDIR).
 */
public final class MakeConf {
    /** One file's text and the name findings use for it ("make.conf/02slave"). */
    public record Source(String name, String text) {
    }

    /** VAR=value as set at one place, after expansion. */
    public record Assignment(String source, int line, String name, String value) {
    }

    /** Final values, every assignment in order, lines that could not be read, and the sources' names. */
    public record Evaluation(Map<String, String> values, List<Assignment> assignments, List<String> problems,
            List<String> sources) {
        public String get(String name) {
            return values.getOrDefault(name, "");
        }

        /** The assignment in force for {@code name}: the last one read. */
        public Optional<Assignment> last(String name) {
            Assignment last = null;
            for (Assignment a : assignments) {
                if (a.name().equals(name)) {
                    last = a;
                }
            }
            return Optional.ofNullable(last);
        }

        /** The slave's own file that advice should name: the first 02* source, else a new make.conf/02local. */
        public String slaveFile() {
            return sources.stream().filter(n -> fileName(n).startsWith("02")).findFirst().orElse("make.conf/02local");
        }

        /** Assignments of {@code name} made in sources whose file name matches the prefix (e.g. "02"). */
        public List<Assignment> setIn(String name, String fileNamePrefix) {
            return assignments.stream().filter(a -> a.name().equals(name)
                    && fileName(a.source()).startsWith(fileNamePrefix)).toList();
        }
    }

    private MakeConf() {
    }

    /**
     * The files Portage would read for this path, in its order: a directory is walked depth-first with the
     * entries of each directory sorted by name (files and subdirectories together, as Portage does), skipping
     * names that start with '.' or end with '~' (editor backups) and CVS directories. A missing path has none.
     */
    public static List<Source> read(Path makeConf) throws IOException {
        if (!Files.isDirectory(makeConf)) {
            return Files.isRegularFile(makeConf)
                    ? List.of(new Source("make.conf", Files.readString(makeConf, StandardCharsets.UTF_8)))
                    : List.of();
        }
        List<Source> sources = new ArrayList<>();
        walk(makeConf, "make.conf", sources);
        return sources;
    }

    /** {@link #read} then {@link #evaluate}: the values make.conf sets, with its problems. */
    public static Evaluation load(Path makeConf) throws IOException {
        return evaluate(read(makeConf));
    }

    private static void walk(Path dir, String name, List<Source> into) throws IOException {
        List<Path> children;
        try (Stream<Path> files = Files.list(dir)) {
            children = files.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
        for (Path f : children) {
            String n = f.getFileName().toString();
            if (n.startsWith(".") || n.endsWith("~")) {
                continue;
            }
            if (Files.isDirectory(f)) {
                if (!n.equals("CVS")) {
                    walk(f, name + "/" + n, into);
                }
            } else if (Files.isRegularFile(f)) {
                into.add(new Source(name + "/" + n, Files.readString(f, StandardCharsets.UTF_8)));
            }
        }
    }

    /** Evaluates the sources in order: later assignments override earlier ones, and may refer to them. */
    public static Evaluation evaluate(List<Source> sources) {
        Map<String, String> values = new LinkedHashMap<>();
        List<Assignment> assignments = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Source s : sources) {
            new Parser(s, values, assignments, problems).run();
        }
        return new Evaluation(Map.copyOf(values), List.copyOf(assignments), List.copyOf(problems),
                sources.stream().map(Source::name).toList());
    }

    /** The last part of a source name: "02slave" for "make.conf/02slave", what the 01/02 prefixes are read from. */
    public static String fileName(String source) {
        int slash = source.lastIndexOf('/');
        return slash < 0 ? source : source.substring(slash + 1);
    }

    /** A small hand-written scanner: make.conf is shell-like but only assignments, quotes and expansion. */
    private static final class Parser {
        private final Source source;
        private final String t;
        private final Map<String, String> values;
        private final List<Assignment> assignments;
        private final List<String> problems;
        private int i;
        private int line = 1;

        Parser(Source source, Map<String, String> values, List<Assignment> assignments, List<String> problems) {
            this.source = source;
            this.t = source.text();
            this.values = values;
            this.assignments = assignments;
            this.problems = problems;
        }

        void run() {
            while (i < t.length()) {
                skipBlanks();
                if (i >= t.length()) {
                    break;
                }
                char c = t.charAt(i);
                if (c == '\n') {
                    i++;
                    line++;
                } else if (c == '#') {
                    skipToEol();
                } else {
                    statement();
                }
            }
        }

        private void statement() {
            int startLine = line;
            if (t.startsWith("export", i) && i + 6 < t.length() && (t.charAt(i + 6) == ' ' || t.charAt(i + 6) == '\t')) {
                i += 6;
                skipBlanks();
            }
            int nameStart = i;
            while (i < t.length() && (Character.isLetterOrDigit(t.charAt(i)) || t.charAt(i) == '_')) {
                i++;
            }
            String name = t.substring(nameStart, i);
            if (name.isEmpty() || Character.isDigit(name.charAt(0)) || i >= t.length() || t.charAt(i) != '=') {
                problems.add(source.name() + " line " + startLine + ": not an assignment VAR=\"value\": '"
                        + t.substring(nameStart, lineEnd()).strip() + "'");
                skipToEol();
                return;
            }
            i++;
            StringBuilder value = new StringBuilder();
            boolean closed = true;
            while (i < t.length()) {
                char c = t.charAt(i);
                if (c == '"') {
                    i++;
                    closed = doubleQuoted(value);
                } else if (c == '\'') {
                    i++;
                    int end = t.indexOf('\'', i);
                    closed = end >= 0;
                    end = closed ? end : t.length();
                    String literal = t.substring(i, end);
                    line += (int) literal.chars().filter(ch -> ch == '\n').count();
                    value.append(literal);
                    i = Math.min(t.length(), end + 1);
                } else if (c == '\\' && i + 1 < t.length() && t.charAt(i + 1) == '\n') {
                    i += 2;
                    line++;
                } else if (c == '\\' && i + 1 < t.length()) {
                    value.append(t.charAt(i + 1));
                    i += 2;
                } else if (c == '$') {
                    i++;
                    expand(value);
                } else if (c == ' ' || c == '\t' || c == '\n' || c == '#') {
                    break;
                } else {
                    value.append(c);
                    i++;
                }
                if (!closed) {
                    problems.add(source.name() + " line " + startLine + ": " + name + " has an unclosed quote");
                    break;
                }
            }
            skipToEol();
            values.put(name, value.toString());
            assignments.add(new Assignment(source.name(), startLine, name, value.toString()));
        }

        private boolean doubleQuoted(StringBuilder value) {
            while (i < t.length()) {
                char c = t.charAt(i);
                if (c == '"') {
                    i++;
                    return true;
                }
                if (c == '\\' && i + 1 < t.length()) {
                    char n = t.charAt(i + 1);
                    if (n == '\n') {
                        line++;
                    } else if (n == '"' || n == '\\' || n == '$' || n == '`') {
                        value.append(n);
                    } else {
                        value.append(c).append(n);
                    }
                    i += 2;
                } else if (c == '$') {
                    i++;
                    expand(value);
                } else {
                    if (c == '\n') {
                        line++;
                    }
                    value.append(c);
                    i++;
                }
            }
            return false;
        }

        /** After a '$': ${NAME} or $NAME; anything else is a literal dollar. Unset names expand to "". */
        private void expand(StringBuilder value) {
            if (i < t.length() && t.charAt(i) == '{') {
                int end = t.indexOf('}', i);
                if (end < 0) {
                    value.append('$');
                    return;
                }
                value.append(values.getOrDefault(t.substring(i + 1, end), ""));
                i = end + 1;
                return;
            }
            int start = i;
            while (i < t.length() && (Character.isLetterOrDigit(t.charAt(i)) || t.charAt(i) == '_')) {
                i++;
            }
            if (start == i) {
                value.append('$');
            } else {
                value.append(values.getOrDefault(t.substring(start, i), ""));
            }
        }

        private void skipBlanks() {
            while (i < t.length() && (t.charAt(i) == ' ' || t.charAt(i) == '\t' || t.charAt(i) == '\r')) {
                i++;
            }
        }

        private int lineEnd() {
            int end = t.indexOf('\n', i);
            return end < 0 ? t.length() : end;
        }

        private void skipToEol() {
            i = lineEnd();
        }
    }
}
