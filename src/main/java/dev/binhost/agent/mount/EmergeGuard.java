package dev.binhost.agent.mount;

import dev.binhost.agent.spi.UpdateActivity;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Says whether an emerge runs, so no mount is pulled from under it. Asks the update feature
 * ({@link UpdateActivity}) when one is deployed; otherwise, and in addition, looks for a process named emerge
 * in /proc (an admin's own emerge counts too).
 */
@ApplicationScoped
public class EmergeGuard {
    private final List<UpdateActivity> activities;
    private final Path proc;

    @Inject
    public EmergeGuard(Instance<UpdateActivity> activities, MountConfig config) {
        this(activities.stream().toList(), config.proc());
    }

    public EmergeGuard(List<UpdateActivity> activities, Path proc) {
        this.activities = List.copyOf(activities);
        this.proc = proc;
    }

    /** Why releasing a mount must wait, or empty when no emerge runs. */
    public java.util.Optional<String> emergeRunning() {
        for (UpdateActivity activity : activities) {
            if (activity.emergeRunning()) {
                return java.util.Optional.of("the agent's update run has an emerge running");
            }
        }
        List<Long> pids = emergePids(proc);
        return pids.isEmpty() ? java.util.Optional.empty()
                : java.util.Optional.of("emerge is running (pid " + pids.get(0) + ")");
    }

    /** PIDs under {@code proc} whose command is emerge (run directly or as "python3 /usr/bin/emerge"). */
    public static List<Long> emergePids(Path proc) {
        List<Long> found = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(proc, p -> p.getFileName().toString()
                .chars().allMatch(Character::isDigit))) {
            for (Path dir : dirs) {
                try {
                    String comm = Files.readString(dir.resolve("comm"), StandardCharsets.UTF_8);
                    byte[] cmdline = Files.readAllBytes(dir.resolve("cmdline"));
                    if (isEmerge(comm, cmdline)) {
                        found.add(Long.parseLong(dir.getFileName().toString()));
                    }
                } catch (IOException e) {
                    // The process ended between listing and reading: not an emerge any more.
                }
            }
        } catch (IOException e) {
            Log.warnf("cannot list %s to look for emerge: %s", proc, e.getMessage());
        }
        return found;
    }

    /** Pure: does a process with this comm and NUL-separated cmdline run emerge? */
    static boolean isEmerge(String comm, byte[] cmdline) {
        if (comm.strip().equals("emerge")) {
            return true;
        }
        String[] argv = new String(cmdline, StandardCharsets.UTF_8).split("\0");
        if (argv.length >= 2 && Path.of(argv[0]).getFileName() != null
                && Path.of(argv[0]).getFileName().toString().startsWith("python")) {
            Path script = Path.of(argv[1]).getFileName();
            return script != null && script.toString().equals("emerge");
        }
        return false;
    }
}
