package dev.binhost.agent.emerge;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.RunPrecondition;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A test bed: a temp dir with state, logs, an empty /proc and power-supply tree, and the stand-in emerge
 * replaying chosen fixtures. Tests set scenario keys (PRETEND, MERGE, …) and config keys, then build a runner.
 */
public final class StandIn {
    public static final Path SCRIPT = Paths.get("src/test/resources/standin/emerge-standin.sh").toAbsolutePath();
    /** The real --ask transcripts (fixtures/ask/README.md). */
    public static final Path ASK_DIR = Paths.get("src/test/resources/fixtures/ask").toAbsolutePath();

    public final Path dir;
    public final Path scenario;
    public final Path argsLog;
    public final Path proc;
    public final Path power;
    /** The test's root for Portage's records (var/db/pkg, var/log/emerge.log, var/cache/edb). */
    public final Path eroot;
    public final Map<String, String> scenarioKeys = new HashMap<>();
    public final Map<String, String> config = new HashMap<>();
    /** Bash appended to the scenario file after its keys: a {@code choose} function for a sequence of runs. */
    public final StringBuilder scenarioScript = new StringBuilder();
    public final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    public StandIn(Path dir) {
        this.dir = dir;
        this.scenario = dir.resolve("scenario.sh");
        this.argsLog = dir.resolve("args.log");
        this.proc = dir.resolve("proc");
        this.power = dir.resolve("power_supply");
        this.eroot = dir.resolve("eroot");
        try {
            Files.createDirectories(proc);
            Files.createDirectories(power);
            Files.writeString(proc.resolve("loadavg"), "0.15 0.20 0.25 1/123 4567\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        config.put("binhost.update.emerge-command", SCRIPT + "," + scenario);
        config.put("binhost.update.power-supply-dir", power.toString());
        config.put("binhost.update.eroot", eroot.toString());
        config.put("binhost.update.make-conf", dir.resolve("etc/portage/make.conf").toString()); // none unless portage()
        // the PRETEND/MERGE fixtures play the two-pass run; one-pass tests set resolution and ask(...)
        config.put("binhost.update.resolution", "pretend-then-run");
        scenarioKeys.put("ARGS_LOG", argsLog.toString());
        scenarioKeys.put("EROOT", eroot.toString());
    }

    /** PRETEND and MERGE fixtures by their number prefix ("030-"); null leaves one out. */
    public StandIn fixtures(String pretend, String merge) {
        if (pretend != null) {
            scenarioKeys.put("PRETEND", Fixtures.DIR.resolve(Fixtures.entry(pretend).file()).toString());
        }
        if (merge != null) {
            Fixtures.Entry e = Fixtures.entry(merge);
            scenarioKeys.put("MERGE", Fixtures.DIR.resolve(e.file()).toString());
            Fixtures.sessionLog(e).ifPresent(log -> scenarioKeys.put("MERGE_LOG", log.toString()));
        }
        return this;
    }

    /**
     * A recorded run (fixtures/records) as the real run: its output, emerge.log lines, vdb entries and mtimedb,
     * with the records as they were before it laid out under {@link #eroot}; {@code pretend} the plan fixture.
     */
    public StandIn recorded(String pretend, Recorded run) {
        fixtures(pretend, null);
        scenarioKeys.put("MERGE", run.output().toString());
        scenarioKeys.put("MERGE_LOG", run.emergeLog().toString());
        scenarioKeys.put("VDB_AFTER", run.vdbAfter().toString());
        run.file("mtimedb").ifPresent(m -> scenarioKeys.put("MTIMEDB", m.toString()));
        run.file("mtimedb-during").ifPresent(m -> scenarioKeys.put("MTIMEDB_DURING", m.toString()));
        run.file("downloads.txt").ifPresent(d -> scenarioKeys.put("DOWNLOADS", d.toString()));
        run.before(eroot);
        return this;
    }

    /**
     * This slave's Portage config: a harness host's real make.conf, profile and package.use, with PKGDIR in the
     * test dir holding {@code packages} (a real Packages index) as its index; null for no index.
     */
    public StandIn portage(String host, Path packages) {
        Path from = Paths.get("src/test/resources/fixtures/portage/harness", host, "etc/portage");
        Path etc = dir.resolve("etc/portage");
        Path pkgdir = dir.resolve("binpkgs");
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path to = etc.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
            Files.writeString(etc.resolve("make.conf"), "PKGDIR=\"" + pkgdir + "\"\n",
                    java.nio.file.StandardOpenOption.APPEND);
            Files.createDirectories(pkgdir);
            if (packages != null) {
                Files.copy(packages, pkgdir.resolve("Packages"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /**
     * One-pass: the --ask transcripts answered Yes and No (files in fixtures/ask; null leaves one out), and
     * {@code binhost.update.resolution=one-pass}.
     */
    public StandIn ask(String yes, String no) {
        if (yes != null) {
            scenarioKeys.put("ASK", ASK_DIR.resolve(yes).toString());
        }
        if (no != null) {
            scenarioKeys.put("ASK_NO", ASK_DIR.resolve(no).toString());
        }
        if (yes != null && yes.startsWith("slave-mixed-ask-yes")) {
            // Portage's records of the same --ask run on the same host and state, answered Yes and No
            // (fixtures/records 20 and 19: emerge.log lines and /var/db/pkg after)
            Recorded asked = Recorded.of("20-");
            scenarioKeys.put("MERGE_LOG", asked.emergeLog().toString());
            scenarioKeys.put("VDB_AFTER", asked.vdbAfter().toString());
            scenarioKeys.put("ASK_NO_LOG", Recorded.of("19-").emergeLog().toString());
            asked.before(eroot);
        }
        config.put("binhost.update.resolution", "one-pass");
        return this;
    }

    public UpdateConfig updateConfig() {
        return new SmallRyeConfigBuilder().withMapping(UpdateConfig.class)
                .withSources(new PropertiesConfigSource(config, "test", 500))
                .withConverter(Duration.class, 100, DurationConverter::parseDuration).build()
                .getConfigMapping(UpdateConfig.class);
    }

    public UpdateRunner runner(List<RunPrecondition> preconditions, Optional<java.util.function.Supplier<dev.binhost.agent.spi.Verdict>> refresher) {
        return runner(preconditions, refresher, new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 65536));
    }

    /** With a process runner of the test's (one that fails a chosen command, say). */
    public UpdateRunner runner(List<RunPrecondition> preconditions, Optional<java.util.function.Supplier<dev.binhost.agent.spi.Verdict>> refresher,
            ProcessRunner processes) {
        writeScenario();
        return new UpdateRunner(updateConfig(), dir.resolve("state"), dir.resolve("log"), proc, processes,
                new JnrPosix(), () -> preconditions, () -> refresher, Clock.systemUTC(), registry);
    }

    /**
     * A runner that collects follow-ups after each run and takes their actions, configured by {@code keys}
     * ({@code binhost.followup.*}) over {@link #eroot}.
     */
    public UpdateRunner runnerWithFollowUps(Map<String, String> keys) {
        writeScenario();
        UpdateConfig update = updateConfig();
        ProcessRunner processes = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 1 << 20);
        dev.binhost.agent.followup.FollowUps followUps = new dev.binhost.agent.followup.FollowUps(
                dev.binhost.agent.followup.FollowUpFixtures.config(keys), update.eroot(), update.makeConf(),
                update.emergeCommand(), processes, Clock.systemUTC());
        return new UpdateRunner(update, dir.resolve("state"), dir.resolve("log"), proc, processes, new JnrPosix(),
                List::of, Optional::empty, Clock.systemUTC(), registry, followUps);
    }

    public UpdateRunner runner() {
        return runner(List.of(), Optional.empty());
    }

    public void writeScenario() {
        StringBuilder sb = new StringBuilder();
        scenarioKeys.forEach((k, v) -> sb.append(k).append("='").append(v).append("'\n"));
        sb.append(scenarioScript);
        try {
            Files.writeString(scenario, sb);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Each line is one emerge call's arguments, as the stand-in saw them. */
    public List<String> calls() {
        try {
            return Files.exists(argsLog) ? Files.readAllLines(argsLog) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public double counter(String name, String tag, String value) {
        var c = registry.find(name).tag(tag, value).counter();
        return c == null ? 0 : c.count();
    }
}
