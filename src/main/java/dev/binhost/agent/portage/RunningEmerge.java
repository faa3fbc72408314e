package dev.binhost.agent.portage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one scan of /proc for a running emerge (the agent's own or an admin's), used by the update run's
 * "no-other-emerge" precondition and by the mount manager, which never releases a mount while emerge runs.
 */
public final class RunningEmerge {
    private RunningEmerge() {
    }

    /**
     * PIDs under {@code proc} (a /proc tree; tests use one of their own) whose process runs emerge, in order.
     *
     * @throws IOException when {@code proc} itself cannot be listed; a process that ends while it is read is skipped
     */
    public static List<Long> pids(Path proc) throws IOException {
        List<Long> found = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(proc, p -> p.getFileName().toString()
                .chars().allMatch(Character::isDigit))) {
            for (Path dir : dirs) {
                byte[] cmdline;
                try {
                    cmdline = Files.readAllBytes(dir.resolve("cmdline"));
                } catch (IOException e) {
                    continue; // the process ended between listing and reading, or is not ours to read
                }
                if (isEmerge(comm(dir), new String(cmdline, StandardCharsets.UTF_8).split("\0"))) {
                    found.add(Long.parseLong(dir.getFileName().toString()));
                }
            }
        }
        found.sort(null);
        return found;
    }

    /** "pid 4242" or "pids 4242, 4250", for the messages that say what blocks. */
    public static String describe(List<Long> pids) {
        return (pids.size() == 1 ? "pid " : "pids ") + String.join(", ", pids.stream().map(String::valueOf).toList());
    }

    /**
     * Pure: does a process with this comm (may be empty) and argv run emerge? The kernel names a script's process
     * after the script (comm "emerge"); argv[0] is "emerge" when run directly, and argv[1] ends in "/emerge"
     * when a Python interpreter runs it (Gentoo's python-exec).
     */
    static boolean isEmerge(String comm, String[] argv) {
        if (comm.strip().equals("emerge")) {
            return true;
        }
        if (argv.length == 0 || argv[0].isEmpty()) {
            return false;
        }
        if (base(argv[0]).equals("emerge")) {
            return true;
        }
        return argv.length > 1 && base(argv[0]).startsWith("python") && base(argv[1]).equals("emerge");
    }

    private static String comm(Path dir) {
        try {
            return Files.readString(dir.resolve("comm"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static String base(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }
}
