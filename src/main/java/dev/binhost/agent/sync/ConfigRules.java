package dev.binhost.agent.sync;

import java.util.List;

/**
 * Which paths of the master's /etc/portage a slave takes: the union of the seed's three rsync calls, as one
 * rsync filter list and as a pure predicate over a relative path (used on the live tree to find what the
 * pull manages, and as a second check on what rsync staged).
 *
 * <p>The seed's calls give: (1) every path whose components are each {@code 01*} or a {@code package.*}
 * directory; (2) the same with {@code make.conf} directories; (3) the whole {@code env/} directory; never a
 * name ending in {@code ~}. A path that mixes a {@code package.*} and a {@code make.conf} directory is in
 * neither (1) nor (2), so the single list excludes those mixes explicitly before the includes.
 *
 * <p>Deliberate differences from the seed: {@code env} is taken only when it is a real directory (the seed's
 * {@code master::portage-config/env/} follows an {@code env} symlink on the master); a master without
 * {@code env/} is not an error (the seed's third call fails).
 */
public final class ConfigRules {
    /** rsync filter rules, first match wins; "**" patterns match across directories. */
    public static final List<String> RSYNC_FILTERS = List.of(
            "- *~",
            "+ /env/",
            "+ /env/**",
            "- package.*/make.conf/",
            "- package.*/**/make.conf/",
            "- make.conf/package.*/",
            "- make.conf/**/package.*/",
            "+ package.*/",
            "+ make.conf/",
            "+ 01*",
            "- *");

    private ConfigRules() {
    }

    /** rsync arguments that apply {@link #RSYNC_FILTERS}. */
    public static List<String> rsyncArgs() {
        return RSYNC_FILTERS.stream().map(rule -> "--filter=" + rule).toList();
    }

    /**
     * Whether the pull manages {@code relative} (components separated by '/', no leading '/'), given that its
     * last component is a directory or not. Every ancestor is taken to be a directory.
     */
    public static boolean includes(String relative, boolean directory) {
        String[] parts = relative.split("/");
        for (String part : parts) {
            if (part.isEmpty() || part.equals(".") || part.equals("..") || part.endsWith("~")) {
                return false;
            }
        }
        if (parts[0].equals("env") && (parts.length > 1 || directory)) {
            return true;
        }
        boolean packageDir = false;
        boolean makeConfDir = false;
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            boolean isDir = i < parts.length - 1 || directory;
            if (part.startsWith("01")) {
                continue;
            }
            if (isDir && part.startsWith("package.")) {
                packageDir = true;
            } else if (isDir && part.equals("make.conf")) {
                makeConfDir = true;
            } else {
                return false;
            }
        }
        return !(packageDir && makeConfDir);
    }

    /** Whether a managed path is one the "never remove every 01* file" guard counts. */
    static boolean isMasterFile(String relative) {
        String name = relative.substring(relative.lastIndexOf('/') + 1);
        return name.startsWith("01");
    }
}
