package dev.binhost.agent.followup;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Readers of what Portage's tools print, each tested against their recorded output. Pure functions: the
 * collector runs the tools, these say what their output means, or why it cannot be read.
 */
final class Parse {
    private static final Pattern GLSA_ID = Pattern.compile("^(\\d{6}-\\d{2,})\\b");
    private static final Pattern TO_REMOVE = Pattern.compile("^Number to remove:\\s+(\\d+)\\s*$");
    private static final Pattern ANSI = Pattern.compile("\u001b\\[[0-9;?]*[A-Za-z]");

    private Parse() {
    }

    /** {@code portageq envvar CONFIG_PROTECT CONFIG_PROTECT_MASK}: one value per line, in the order asked. */
    record Protect(List<String> protect, List<String> mask) {
    }

    static Protect envvar(String stdout) {
        List<String> lines = stdout.lines().toList();
        return new Protect(words(lines.isEmpty() ? "" : lines.get(0)), words(lines.size() < 2 ? "" : lines.get(1)));
    }

    static List<String> words(String value) {
        String v = value.strip();
        return v.isEmpty() ? List.of() : List.of(v.split("\\s+"));
    }

    /**
     * {@code portageq list_preserved_libs /}: per package "cpv path path…" on one line; exit 1 when there are
     * none. Each preserved library as "path (cpv)".
     */
    static List<String> preservedLibs(String stdout) {
        List<String> libs = new ArrayList<>();
        for (String line : stdout.lines().toList()) {
            List<String> w = words(line);
            for (int i = 1; i < w.size(); i++) {
                libs.add(w.get(i) + " (" + w.get(0) + ")");
            }
        }
        return libs;
    }

    /** {@code glsa-check -t all}: the ids of the advisories that affect this system, one per line. */
    static List<String> glsaIds(String output) {
        Set<String> ids = new LinkedHashSet<>();
        for (String line : output.lines().toList()) {
            Matcher m = GLSA_ID.matcher(line.strip());
            if (m.find()) {
                ids.add(m.group(1));
            }
        }
        return List.copyOf(ids);
    }

    /** What {@code emerge --pretend --depclean} would remove: its count and the packages it names. */
    record Depclean(int count, List<String> packages) {
    }

    /**
     * emerge's depclean summary: "Number to remove: N" and "All selected packages: =cpv =cpv". Empty when the
     * output has no count (emerge refused: its error is then the reason).
     */
    static Optional<Depclean> depclean(String output) {
        OptionalInt count = OptionalInt.empty();
        List<String> packages = new ArrayList<>();
        for (String raw : output.lines().toList()) {
            String line = ANSI.matcher(raw).replaceAll("").strip();
            Matcher m = TO_REMOVE.matcher(line);
            if (m.matches()) {
                count = OptionalInt.of(Integer.parseInt(m.group(1)));
            } else if (line.startsWith("All selected packages:")) {
                for (String w : words(line.substring("All selected packages:".length()))) {
                    packages.add(w.startsWith("=") ? w.substring(1) : w);
                }
            }
        }
        return count.isPresent() ? Optional.of(new Depclean(count.getAsInt(), List.copyOf(packages)))
                : Optional.empty();
    }

    /**
     * What needrestart's batch mode ({@code -b}) says: services to restart, user sessions running outdated
     * binaries, and the kernel's state.
     */
    record Restart(List<String> services, List<String> sessions, OptionalInt kernelStatus, String running,
            String expected) {
        /** KSTA 2 (ABI-compatible upgrade) and 3 (version upgrade) mean the running kernel is not the newest. */
        boolean kernelPending() {
            return kernelStatus.isPresent() && kernelStatus.getAsInt() >= 2;
        }

        List<String> items() {
            List<String> all = new ArrayList<>();
            if (kernelPending()) {
                all.add("kernel: running " + running + ", newest installed " + expected);
            }
            services.forEach(s -> all.add("service " + s));
            sessions.forEach(s -> all.add("session " + s));
            return all;
        }
    }

    static Restart needrestart(String stdout) {
        List<String> services = new ArrayList<>();
        List<String> sessions = new ArrayList<>();
        OptionalInt ksta = OptionalInt.empty();
        String kcur = "?";
        String kexp = "?";
        for (String line : stdout.lines().toList()) {
            int colon = line.indexOf(':');
            if (!line.startsWith("NEEDRESTART-") || colon < 0) {
                continue;
            }
            String key = line.substring("NEEDRESTART-".length(), colon);
            String value = line.substring(colon + 1).strip();
            switch (key) {
                case "SVC" -> services.add(value);
                case "SESS" -> sessions.add(value);
                case "KSTA" -> {
                    try {
                        ksta = OptionalInt.of(Integer.parseInt(value));
                    } catch (NumberFormatException e) {
                        ksta = OptionalInt.empty();
                    }
                }
                case "KCUR" -> kcur = value;
                case "KEXP" -> kexp = value;
                default -> {
                }
            }
        }
        return new Restart(List.copyOf(services), List.copyOf(sessions), ksta, kcur, kexp);
    }

    /** One message of a package's elog: its class (ERROR, WARN, …), phase and the message's first line. */
    record Elog(String type, String phase, String text) {
    }

    /**
     * An elog text as Portage's save and save_summary modules write it: "TYPE: phase" headers, each followed by
     * its message lines. The messages of {@code types}, one per header with its first non-blank line.
     */
    static List<Elog> elog(String text, Set<String> types) {
        List<Elog> out = new ArrayList<>();
        String type = null;
        String phase = null;
        boolean have = false;
        for (String raw : text.lines().toList()) {
            String line = ANSI.matcher(raw).replaceAll("");
            int colon = line.indexOf(": ");
            if (colon > 0 && line.substring(0, colon).matches("INFO|LOG|WARN|ERROR|QA")
                    && line.substring(colon + 2).matches("[a-z_]+")) {
                type = line.substring(0, colon);
                phase = line.substring(colon + 2);
                have = false;
                continue;
            }
            if (type != null && !have && !line.isBlank() && types.contains(type)) {
                out.add(new Elog(type, phase, line.strip()));
                have = true;
            }
        }
        return out;
    }
}
