package dev.binhost.agent.followup;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The config files an update left waiting for a merge, found the way Portage finds them: {@code ._cfg????_name}
 * in every CONFIG_PROTECT directory (hidden directories skipped, {@code ~} and {@code .bak} copies ignored), or
 * beside a CONFIG_PROTECT file; a candidate counts when the file it would replace is protected and not masked by
 * CONFIG_PROTECT_MASK, where the longer of the two matching entries wins.
 */
final class ConfigFiles {
    private static final Pattern CFG = Pattern.compile("\\._cfg\\d{4}_(.+)");

    private ConfigFiles() {
    }

    /**
     * The waiting files under {@code root} (the slave's EROOT), as paths on the slave ("/etc/._cfg0000_foo"),
     * sorted. {@code protect} and {@code mask} are absolute paths as CONFIG_PROTECT lists them.
     */
    static List<String> find(Path root, List<String> protect, List<String> mask) throws IOException {
        TreeSet<String> found = new TreeSet<>();
        for (String entry : protect) {
            if (!entry.startsWith("/")) {
                continue;
            }
            Path p = root.resolve(entry.substring(1));
            if (Files.isDirectory(p)) {
                // a symbolic link to a directory counts as the directory, as in Portage
                walk(p.toRealPath(), entry.endsWith("/") ? entry.substring(0, entry.length() - 1) : entry, found);
            } else if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && p.getParent() != null) {
                String name = p.getFileName().toString();
                try (var files = Files.list(p.getParent())) {
                    for (Path f : files.toList()) {
                        String fn = f.getFileName().toString();
                        if (fn.matches("\\._cfg\\d{4}_" + Pattern.quote(name)) && !ignored(fn)) {
                            found.add(onSlave(root, f));
                        }
                    }
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (String f : found) {
            int slash = f.lastIndexOf('/');
            var m = CFG.matcher(f.substring(slash + 1));
            String target = f.substring(0, slash + 1) + (m.matches() ? m.group(1) : "");
            if (protectedPath(target, protect, mask, root)) {
                out.add(f);
            }
        }
        return out;
    }

    /** Walks {@code dir} (real path), whose path on the slave is {@code onSlave}. */
    private static void walk(Path dir, String onSlave, TreeSet<String> found) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                return !d.equals(dir) && d.getFileName().toString().startsWith(".")
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                String name = f.getFileName().toString();
                if (CFG.matcher(name).matches() && !ignored(name)) {
                    found.add((onSlave.equals("/") ? "" : onSlave) + "/" + dir.relativize(f));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) {
                // an unreadable corner of /etc is not the whole answer's failure
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static boolean ignored(String name) {
        return name.endsWith("~") || name.toLowerCase(Locale.ROOT).endsWith(".bak");
    }

    private static String onSlave(Path root, Path f) {
        return "/" + root.relativize(f).toString();
    }

    /** Portage's ConfigProtect.isprotected: the longest matching CONFIG_PROTECT entry, unless a mask is as long. */
    static boolean protectedPath(String path, List<String> protect, List<String> mask, Path root) {
        int protectedLen = 0;
        boolean masked = false;
        for (String p : protect) {
            String pp = strip(p);
            if (pp.length() > protectedLen && matches(path, pp, root)) {
                protectedLen = pp.length();
                masked = false;
                for (String m : mask) {
                    String mm = strip(m);
                    if (mm.length() >= protectedLen && matches(path, mm, root)) {
                        masked = true;
                        break;
                    }
                }
            }
        }
        return protectedLen > 0 && !masked;
    }

    private static String strip(String p) {
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    /** A directory entry matches itself and what is under it; a file entry only itself. */
    private static boolean matches(String path, String entry, Path root) {
        if (path.equals(entry)) {
            return true;
        }
        boolean dir = entry.equals("/") || Files.isDirectory(root.resolve(entry.substring(1)));
        return dir && path.startsWith(entry.endsWith("/") ? entry : entry + "/");
    }
}
