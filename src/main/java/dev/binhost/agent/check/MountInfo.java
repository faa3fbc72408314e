package dev.binhost.agent.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Which mount a path lives on, from the text of /proc/self/mountinfo (never stats the path: NFS may hang). */
public final class MountInfo {
    /** One mount: where, what filesystem, and whether it is read-only (per mount or per superblock). */
    public record Mount(String mountPoint, String fsType, String source, boolean readOnly) {
    }

    private MountInfo() {
    }

    public static List<Mount> parse(String mountinfo) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            String[] f = line.strip().split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 6 || dash < 6 || dash + 3 > f.length) {
                continue;
            }
            boolean ro = Set.of(f[5].split(",")).contains("ro")
                    || (dash + 3 < f.length && Set.of(f[dash + 3].split(",")).contains("ro"));
            mounts.add(new Mount(unescape(f[4]), f[dash + 1], unescape(f[dash + 2]), ro));
        }
        return mounts;
    }

    /** The mount whose mount point is the longest prefix of the absolute path; the last such mount wins. */
    public static Optional<Mount> containing(List<Mount> mounts, String path) {
        Mount best = null;
        for (Mount m : mounts) {
            String mp = m.mountPoint();
            boolean under = mp.equals("/") || path.equals(mp) || path.startsWith(mp.endsWith("/") ? mp : mp + "/");
            if (under && (best == null || mp.length() >= best.mountPoint().length())) {
                best = m;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The kernel writes space, tab, newline and backslash in paths as \040, \011, \012, \134. */
    static String unescape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
