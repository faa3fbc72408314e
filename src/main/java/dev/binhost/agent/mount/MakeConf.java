package dev.binhost.agent.mount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The variables a make.conf sets, as far as the preflight needs them: {@code VAR="..."}, {@code VAR='...'} and
 * {@code VAR=word} assignments (optionally after {@code export}), double quotes spanning lines, and
 * {@code ${VAR}}/{@code $VAR} expansion from earlier assignments. Not a shell: commands and
 * {@code source} lines are ignored.
 */
public final class MakeConf {
    private MakeConf() {
    }

    /**
     * Reads make.conf as Portage does: a file, or a directory whose files are read in collating order (names
     * starting with '.' or ending with '~' skipped), each later assignment overriding earlier ones.
     */
    public static Map<String, String> load(Path makeConf) throws IOException {
        Map<String, String> vars = new LinkedHashMap<>();
        for (Path file : files(makeConf)) {
            vars = parse(Files.readString(file), vars);
        }
        return vars;
    }

    /** The files {@link #load} reads, in order; empty when make.conf does not exist. */
    public static List<Path> files(Path makeConf) throws IOException {
        if (Files.isRegularFile(makeConf)) {
            return List.of(makeConf);
        }
        if (!Files.isDirectory(makeConf)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(makeConf)) {
            walk.filter(Files::isRegularFile)
                    .filter(p -> {
                        for (Path part : makeConf.relativize(p)) {
                            String name = part.toString();
                            if (name.startsWith(".") || name.endsWith("~")) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .sorted()
                    .forEach(out::add);
        }
        return out;
    }

    /** Pure: applies the assignments in {@code text} on top of {@code before} and returns the result. */
    public static Map<String, String> parse(String text, Map<String, String> before) {
        Map<String, String> vars = new LinkedHashMap<>(before);
        int i = 0;
        int n = text.length();
        while (i < n) {
            i = skipBlankAndComments(text, i);
            if (i >= n) {
                break;
            }
            int lineEnd = text.indexOf('\n', i);
            if (lineEnd < 0) {
                lineEnd = n;
            }
            if (text.startsWith("export ", i)) {
                i += "export ".length();
                while (i < n && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
                    i++;
                }
            }
            int nameEnd = i;
            while (nameEnd < n && (Character.isLetterOrDigit(text.charAt(nameEnd)) || text.charAt(nameEnd) == '_')) {
                nameEnd++;
            }
            if (nameEnd == i || nameEnd >= n || text.charAt(nameEnd) != '=') {
                i = lineEnd + 1;
                continue;
            }
            String name = text.substring(i, nameEnd);
            StringBuilder value = new StringBuilder();
            int j = nameEnd + 1;
            while (j < n && text.charAt(j) != '\n' && text.charAt(j) != ' ' && text.charAt(j) != '\t') {
                char c = text.charAt(j);
                if (c == '"') {
                    int close = j + 1;
                    StringBuilder raw = new StringBuilder();
                    while (close < n && text.charAt(close) != '"') {
                        if (text.charAt(close) == '\\' && close + 1 < n) {
                            char next = text.charAt(close + 1);
                            if (next == '\n') {
                                close += 2;
                                continue;
                            }
                            if (next == '"' || next == '\\' || next == '$') {
                                raw.append('\\').append(next);
                                close += 2;
                                continue;
                            }
                        }
                        raw.append(text.charAt(close));
                        close++;
                    }
                    value.append(expand(raw.toString(), vars));
                    j = close + 1;
                } else if (c == '\'') {
                    int close = text.indexOf('\'', j + 1);
                    close = close < 0 ? n : close;
                    value.append(text, j + 1, close);
                    j = close + 1;
                } else if (c == '#' && value.isEmpty()) {
                    break;
                } else {
                    int end = j;
                    while (end < n && "\"' \t\n".indexOf(text.charAt(end)) < 0) {
                        end++;
                    }
                    value.append(expand(text.substring(j, end), vars));
                    j = end;
                }
            }
            vars.put(name, value.toString());
            int next = text.indexOf('\n', Math.min(j, n));
            i = next < 0 ? n : next + 1;
        }
        return vars;
    }

    private static int skipBlankAndComments(String text, int i) {
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (c == '#') {
                int nl = text.indexOf('\n', i);
                i = nl < 0 ? n : nl + 1;
            } else if (Character.isWhitespace(c)) {
                i++;
            } else {
                break;
            }
        }
        return i;
    }

    /** Expands ${VAR} and $VAR (unset → empty, as in the shell) and drops the escaping backslashes. */
    static String expand(String s, Map<String, String> vars) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                out.append(s.charAt(++i));
            } else if (c == '$' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
                int close = s.indexOf('}', i + 2);
                if (close < 0) {
                    out.append(s, i, s.length());
                    break;
                }
                out.append(vars.getOrDefault(s.substring(i + 2, close), ""));
                i = close;
            } else if (c == '$' && i + 1 < s.length()
                    && (Character.isLetter(s.charAt(i + 1)) || s.charAt(i + 1) == '_')) {
                int end = i + 1;
                while (end < s.length() && (Character.isLetterOrDigit(s.charAt(end)) || s.charAt(end) == '_')) {
                    end++;
                }
                out.append(vars.getOrDefault(s.substring(i + 1, end), ""));
                i = end - 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
