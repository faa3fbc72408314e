package dev.binhost.agent.config;

import java.net.IDN;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/** Small validators shared by the feature mappings. Each appends "key: problem" lines. */
public final class Checks {
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?");

    private Checks() {
    }

    public static void positive(List<String> problems, String key, Duration value) {
        if (value.isNegative() || value.isZero()) {
            problems.add(key + ": must be a positive duration (e.g. 30s, 5m), was " + Durations.human(value));
        }
    }

    public static void notNegative(List<String> problems, String key, Duration value) {
        if (value.isNegative()) {
            problems.add(key + ": must not be negative, was " + Durations.human(value));
        }
    }

    public static void atLeast(List<String> problems, String key, long value, long min) {
        if (value < min) {
            problems.add(key + ": must be at least " + min + ", was " + value);
        }
    }

    public static void port(List<String> problems, String key, int port) {
        if (port < 1 || port > 65535) {
            problems.add(key + ": must be a TCP port between 1 and 65535, was " + port);
        }
    }

    /** Host name (RFC 1123), IPv4 address, or IPv6 address with or without brackets. */
    public static void host(List<String> problems, String key, String host) {
        String why = hostProblem(host);
        if (why != null) {
            problems.add(key + ": " + why);
        }
    }

    static String hostProblem(String host) {
        if (host == null || host.isBlank()) {
            return "is empty; set it to the master's host name or address";
        }
        String h = host.strip();
        if (!h.equals(host)) {
            return "has leading or trailing spaces: '" + host + "'";
        }
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
            return h.contains(":") && IPV6.matcher(h).matches() ? null : "'" + host + "' is not an IPv6 address";
        }
        if (h.contains(":")) {
            return IPV6.matcher(h).matches() && h.chars().filter(c -> c == ':').count() >= 2 ? null
                    : "'" + host + "' is not a host name or address (a port goes in its own key)";
        }
        var v4 = IPV4.matcher(h);
        if (v4.matches()) {
            for (int i = 1; i <= 4; i++) {
                if (Integer.parseInt(v4.group(i)) > 255) {
                    return "'" + host + "' is not a valid IPv4 address";
                }
            }
            return null;
        }
        String ascii;
        try {
            ascii = IDN.toASCII(h.endsWith(".") ? h.substring(0, h.length() - 1) : h, IDN.USE_STD3_ASCII_RULES);
        } catch (IllegalArgumentException e) {
            return "'" + host + "' is not a valid host name";
        }
        if (ascii.isEmpty() || ascii.length() > 253) {
            return "'" + host + "' is not a valid host name";
        }
        if (ascii.matches("[0-9.]+")) {
            return "'" + host + "' is not a valid IPv4 address";
        }
        for (String label : ascii.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return "'" + host + "' is not a valid host name (label '" + label + "')";
            }
        }
        return null;
    }
}
