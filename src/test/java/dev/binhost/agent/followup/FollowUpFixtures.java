package dev.binhost.agent.followup;

import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.posix.JnrPosix;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The real tools' recordings of fixtures/followup (one directory per host state of the harness slave), and a
 * collector wired to replay them: portageq, glsa-check and needrestart through {@code standin/tool-standin.sh},
 * depclean through a recording, the host's files from the case's {@code root/}.
 */
public final class FollowUpFixtures {
    public static final Path DIR = Paths.get("src/test/resources/fixtures/followup").toAbsolutePath();
    public static final Path TOOL = Paths.get("src/test/resources/standin/tool-standin.sh").toAbsolutePath();

    private FollowUpFixtures() {
    }

    /** The single file of a case matching {@code glob} ("depclean.rc*.txt"). */
    public static Path file(String kase, String glob) {
        try (var s = Files.newDirectoryStream(DIR.resolve(kase), glob)) {
            var it = s.iterator();
            if (!it.hasNext()) {
                throw new IllegalArgumentException("no " + glob + " in " + kase);
            }
            return it.next();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String text(String kase, String glob) {
        try {
            return Files.readString(file(kase, glob));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Copies a case's {@code root/} (what the host held) under {@code eroot}, every file dated {@code at}: files
     * an earlier state already had keep their time, so only what a run wrote is newer than the run's start.
     */
    public static void lay(String kase, Path eroot, Instant at) {
        Path from = DIR.resolve(kase).resolve("root");
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Path to = eroot.resolve(from.relativize(p).toString());
                if (Files.exists(to) && Files.mismatch(p, to) == -1) {
                    continue;
                }
                Files.createDirectories(to.getParent());
                Files.copy(p, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.setLastModifiedTime(to, FileTime.from(at));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The follow-up keys of a slave whose tools are the stand-ins: the state they replay is the case named in
     * {@code caseFile}; {@code emerge} answers depclean.
     */
    public static Map<String, String> keys(Path caseFile, String emerge) {
        String tool = TOOL + "," + caseFile + "," + DIR + ",";
        Map<String, String> m = new HashMap<>();
        m.put("binhost.followup.portageq-command", tool + "portageq");
        m.put("binhost.followup.glsa-check-command", tool + "glsa-check");
        m.put("binhost.followup.needrestart-command", tool + "needrestart");
        m.put("binhost.followup.tool-deadline", "20s");
        if (emerge != null) {
            m.put("binhost.update.emerge-command", emerge);
        }
        return m;
    }

    public static FollowUpConfig config(Map<String, String> keys) {
        return new SmallRyeConfigBuilder().withMapping(FollowUpConfig.class)
                .withSources(new PropertiesConfigSource(keys, "test", 500))
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter()).build()
                .getConfigMapping(FollowUpConfig.class);
    }

    /** A collector over {@code eroot} whose tools replay recordings; {@code emerge} null: depclean's recording. */
    public static FollowUps collector(Path eroot, Path caseFile, Map<String, String> more) {
        Map<String, String> keys = keys(caseFile, null);
        keys.putAll(more);
        List<String> emerge = List.of("sh", "-c", "c=$(head -n1 " + caseFile + "); cat " + DIR + "/$c/depclean.rc0.txt");
        return new FollowUps(config(keys), eroot, eroot.resolve("etc/portage/make.conf"), emerge,
                new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 1 << 20), Clock.systemUTC());
    }
}
