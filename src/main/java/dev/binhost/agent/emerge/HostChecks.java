package dev.binhost.agent.emerge;

import dev.binhost.agent.portage.RunningEmerge;
import dev.binhost.agent.spi.Verdict;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The update run's own preconditions, read from /proc and /sys (paths are parameters so tests use trees of
 * their own): no other emerge running, power source, load average. Pure reads of small kernel files.
 */
public final class HostChecks {

    /** Where the machine draws power from. */
    public enum Power { MAINS, BATTERY }

    private HostChecks() {
    }

    /** PIDs of running emerge processes ({@link RunningEmerge}); a /proc that cannot be listed is an error. */
    public static List<Long> emergePids(Path procDir) {
        try {
            return RunningEmerge.pids(procDir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + procDir + ": " + e.getMessage(), e);
        }
    }

    public static Verdict noOtherEmerge(Path procDir) {
        List<Long> pids = emergePids(procDir);
        return pids.isEmpty() ? Verdict.ok("no emerge running")
                : Verdict.no("emerge already running (" + RunningEmerge.describe(pids) + ")");
    }

    /** Battery when a battery exists and no mains/USB supply is online; mains otherwise (including no info). */
    public static Power power(Path powerSupplyDir) {
        if (!Files.isDirectory(powerSupplyDir)) {
            return Power.MAINS;
        }
        boolean battery = false;
        boolean online = false;
        try (DirectoryStream<Path> supplies = Files.newDirectoryStream(powerSupplyDir)) {
            for (Path s : supplies) {
                String type = read(s.resolve("type")).orElse("");
                if (type.equals("Battery")) {
                    battery = true;
                } else if (read(s.resolve("online")).orElse("0").equals("1")) {
                    online = true;
                }
            }
        } catch (IOException e) {
            return Power.MAINS;
        }
        return battery && !online ? Power.BATTERY : Power.MAINS;
    }

    /** The 1-minute load average from {@code <proc>/loadavg}. */
    public static OptionalDouble load(Path procDir) {
        return read(procDir.resolve("loadavg")).map(s -> OptionalDouble.of(Double.parseDouble(s.split("\\s+")[0])))
                .orElse(OptionalDouble.empty());
    }

    private static Optional<String> read(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8).strip());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
