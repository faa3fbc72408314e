package dev.binhost.agent.emerge;

/**
 * One flag of a USE (or USE_EXPAND, e.g. PYTHON_TARGETS) list as emerge shows it: {@code -debug*} is disabled and
 * changed since the installed version, {@code foo%} was added to or removed from IUSE, {@code (bar)} is forced or
 * masked by the profile.
 */
public record UseFlag(String name, boolean enabled, boolean changed, boolean addedOrRemoved, boolean forced) {

    /** Parses one token of a {@code USE="…"} value. */
    public static UseFlag parse(String token) {
        String t = token;
        boolean changed = false;
        boolean toggled = false;
        boolean forced = false;
        if (t.startsWith("(") && t.contains(")")) {
            forced = true;
            int close = t.lastIndexOf(')');
            String suffix = t.substring(close + 1);
            t = t.substring(1, close) + suffix;
        }
        boolean more = true;
        while (more && !t.isEmpty()) {
            char last = t.charAt(t.length() - 1);
            if (last == '*') {
                changed = true;
            } else if (last == '%') {
                toggled = true;
            } else {
                more = false;
                continue;
            }
            t = t.substring(0, t.length() - 1);
        }
        boolean enabled = true;
        if (t.startsWith("-")) {
            enabled = false;
            t = t.substring(1);
        }
        return new UseFlag(t, enabled, changed, toggled, forced);
    }

    /** The flag as a package.use line would write it: "debug" or "-debug". */
    public String setting() {
        return enabled ? name : "-" + name;
    }
}
