package dev.binhost.agent.emerge;

import dev.binhost.agent.binhost.Binhost;
import dev.binhost.agent.binhost.PackagesConfig;
import dev.binhost.agent.config.AgentConfigs;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prefetch of an http slave, replaying the real Portage's {@code emerge --fetchonly} against the signed
 * harness binhost (record 69: eleven binaries downloaded, nothing in emerge.log or /var/db/pkg): what it counts
 * comes from the download directory, and it runs only when a run could.
 */
class PrefetchTest {
    private static final String FETCH_ARGS =
            "--fetchonly --usepkg --update --deep --changed-use --with-bdeps y --getbinpkg @world";

    @TempDir
    Path tmp;

    private Binhost binhost() {
        PackagesConfig c = AgentConfigs.of(Map.of("binhost.master.host", "127.0.0.1", "binhost.packages.transport",
                "http", "binhost.packages.url", "http://127.0.0.1:18090", "binhost.packages.binrepos",
                tmp.resolve("binrepos.conf").toString())).getConfigMapping(PackagesConfig.class);
        return new Binhost(c, tmp.resolve("state"), Duration.ofSeconds(1), Duration.ofSeconds(1), Clock.systemUTC());
    }

    private record Bed(StandIn standIn, UpdateRunner runner, Prefetch prefetch, Path downloads) {
        double counter(String name, String... tags) {
            return standIn.registry.get(name).tags(tags).counter().count();
        }
    }

    private Bed bed(String record, Duration deadline, List<RunPrecondition> preconditions) {
        StandIn s = new StandIn(tmp);
        s.recorded(null, Recorded.of(record));
        UpdateRunner runner = s.runner(preconditions, Optional.empty());
        Binhost binhost = binhost();
        runner.binhost(binhost);
        Path downloads = binhost.downloadDir(s.eroot);
        Prefetch prefetch = new Prefetch("0 0 2 * * ?", deadline, () -> downloads, runner,
                () -> HostChecks.power(s.power), new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 65536),
                s.updateConfig().emergeCommand(), tmp.resolve("log"), tmp.resolve("state"), Clock.systemUTC(),
                s.registry);
        return new Bed(s, runner, prefetch, downloads);
    }

    @Test
    void fetchonly_elevenBinariesCountedFromTheDownloadDirectory_noRunRecorded() throws Exception {
        Bed b = bed("69-", Duration.ofSeconds(30), List.of());
        Prefetch.Result r = b.prefetch().run();
        assertEquals(Prefetch.Outcome.SUCCESS, r.outcome(), r.message());
        assertEquals(List.of(FETCH_ARGS), b.standIn().calls(), "the @world run's own arguments, download only");
        assertEquals(11, r.packages());
        assertEquals(11 * 20480L, r.bytes());
        assertEquals("11 binary packages fetched (225280 bytes) into " + b.downloads(), r.message());
        assertEquals(Path.of("var/cache/binhost/binhost-agent"), b.standIn().eroot.relativize(b.downloads()),
                "Portage's default location of the agent's binrepos entry (record 69)");
        assertTrue(b.runner().history().last().isEmpty(), "a download is not an update run");
        assertEquals(11, b.counter("binhost.prefetch.packages"));
        assertEquals(225280, b.counter("binhost.prefetch.bytes"));
        assertEquals(1, b.counter("binhost.prefetch.runs", "outcome", "success"));
        assertEquals(0, b.counter("binhost.prefetch.runs", "outcome", "failed"), "every outcome is there from 0");
        Map<String, Object> status = b.prefetch().status(null);
        @SuppressWarnings("unchecked")
        Map<String, Object> last = (Map<String, Object>) status.get("last");
        assertEquals("success", last.get("outcome"));
        assertEquals(11, last.get("packages"));
        assertEquals(r.log(), last.get("log"));
        assertTrue(Files.readString(Path.of(r.log())).contains(">>> Fetching (11 of 11)"), "emerge's output is kept");
    }

    @Test
    void lastPrefetch_survivesARestart() throws Exception {
        Bed b = bed("69-", Duration.ofSeconds(30), List.of());
        Prefetch.Result r = b.prefetch().run();
        Prefetch again = new Prefetch("0 0 2 * * ?", Duration.ofSeconds(30), b::downloads, b.runner(),
                () -> HostChecks.Power.MAINS, new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 65536),
                List.of("false"), tmp.resolve("log"), tmp.resolve("state"), Clock.systemUTC(),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        assertEquals(Optional.of(r), again.last());
        assertTrue(Files.readString(tmp.resolve("state/prefetch-last.json")).contains("\"outcome\":\"success\""),
                "spelt as in status and history");
    }

    @Test
    void filesAlreadyThere_areNotCountedAgain_onlyNewOrChangedOnes() throws Exception {
        Bed b = bed("69-", Duration.ofSeconds(30), List.of());
        // two of the eleven were fetched before (same size, and the mtime Portage gives them from the index)
        Path done = b.downloads().resolve("app-misc/demo-cli/demo-cli-2.0-1.gpkg.tar");
        Path other = b.downloads().resolve("dev-libs/libdemo/libdemo-1.2.3-1.gpkg.tar");
        Map<Path, Long> before = Map.of(done, 20480L, other, 20480L);
        for (Map.Entry<Path, Long> e : before.entrySet()) {
            Files.createDirectories(e.getKey().getParent());
            try (var f = new java.io.RandomAccessFile(e.getKey().toFile(), "rw")) {
                f.setLength(e.getValue());
            }
            Files.setLastModifiedTime(e.getKey(), java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
        }
        // libdemo is fetched again (a new file, as Portage renames a finished .partial); demo-cli is left alone
        b.standIn().scenarioKeys.put("DOWNLOADS", filtered(b, "demo-cli-2.0-1.gpkg.tar").toString());
        b.standIn().writeScenario();
        Prefetch.Result r = b.prefetch().run();
        assertEquals(Prefetch.Outcome.SUCCESS, r.outcome(), r.message());
        assertEquals(10, r.packages(), "demo-cli was there unchanged: " + r.message());
        assertEquals(10 * 20480L, r.bytes());
    }

    private Path filtered(Bed b, String without) throws IOException {
        Path recorded = Recorded.of("69-").file("downloads.txt").orElseThrow();
        Path out = tmp.resolve("downloads-without.txt");
        Files.write(out, Files.readAllLines(recorded).stream().filter(l -> !l.contains("/" + without + "\t")).toList());
        return out;
    }

    @Test
    void onBattery_notRun() throws Exception {
        Bed b = bed("69-", Duration.ofSeconds(30), List.of());
        Path bat = b.standIn().power.resolve("BAT0");
        Files.createDirectories(bat);
        Files.writeString(bat.resolve("type"), "Battery\n");
        Path ac = b.standIn().power.resolve("AC");
        Files.createDirectories(ac);
        Files.writeString(ac.resolve("type"), "Mains\n");
        Files.writeString(ac.resolve("online"), "0\n");
        Prefetch.Result r = b.prefetch().run();
        assertEquals(Prefetch.Outcome.SKIPPED, r.outcome());
        assertEquals("not run: on battery (a prefetch runs only on mains power)", r.message());
        assertEquals(List.of(), b.standIn().calls(), "no emerge started");
        assertEquals(1, b.counter("binhost.prefetch.runs", "outcome", "skipped"));
    }

    @Test
    void whatWouldBlockARun_blocksIt_butTheAdminsHoldsDoNot() throws Exception {
        RunPrecondition masterDown = precondition("master-up", Verdict.no("master DOWN since 10:02"));
        Bed blocked = bed("69-", Duration.ofSeconds(30), List.of(masterDown));
        Prefetch.Result r = blocked.prefetch().run();
        assertEquals(Prefetch.Outcome.SKIPPED, r.outcome());
        assertEquals("not run: blocked by master-up (master DOWN since 10:02)", r.message());
        assertEquals(List.of(), blocked.standIn().calls());

        RunPrecondition news = precondition("no-unread-news", Verdict.no("2 unread news items"));
        Bed held = bed("69-", Duration.ofSeconds(30), List.of(news));
        Prefetch.Result fetched = held.prefetch().run();
        assertEquals(Prefetch.Outcome.SUCCESS, fetched.outcome(), "a hold stops installs, not downloads: "
                + fetched.message());
    }

    @Test
    void anEmergeAlreadyRunning_notRun() throws Exception {
        Bed b = bed("69-", Duration.ofSeconds(30), List.of());
        Path pid = b.standIn().proc.resolve("4242");
        Files.createDirectories(pid);
        Files.write(pid.resolve("cmdline"), "/usr/bin/python3.12\0/usr/bin/emerge\0-uDN\0@world\0".getBytes());
        Files.writeString(pid.resolve("comm"), "emerge\n");
        Prefetch.Result r = b.prefetch().run();
        assertEquals(Prefetch.Outcome.SKIPPED, r.outcome());
        assertTrue(r.message().startsWith("not run: blocked by no-other-emerge (emerge already running"), r.message());
    }

    @Test
    void pastItsDeadline_ended_whatItFetchedBeforeIsCounted() throws Exception {
        Bed b = bed("69-", Duration.ofSeconds(2), List.of());
        // emerge stops answering after the third binary's digest check (line 43 of the recorded output)
        b.standIn().scenarioKeys.put("HANG_AFTER", String.valueOf(lineOf("demo-gettext-0.22-1.gpkg.tar MD5")));
        b.standIn().writeScenario();
        Prefetch.Result r = b.prefetch().run();
        assertEquals(Prefetch.Outcome.TIMED_OUT, r.outcome(), r.message());
        assertEquals(3, r.packages(), r.message());
        assertEquals("passed its deadline of 2s and was ended; 3 binary packages fetched (61440 bytes) into "
                + b.downloads() + " before that; the install fetches the rest", r.message());
        assertEquals(1, b.counter("binhost.prefetch.runs", "outcome", "timed-out"));
    }

    @Test
    void onTheUpdateLoop_runsWhenItsCronTimeComes_andStatusShowsItAndTheNextOne() throws Exception {
        StandIn s = new StandIn(tmp);
        s.recorded(null, Recorded.of("69-"));
        UpdateRunner runner = s.runner();
        Binhost binhost = binhost();
        runner.binhost(binhost);
        Prefetch prefetch = new Prefetch("* * * * * ?", Duration.ofSeconds(30), () -> binhost.downloadDir(s.eroot),
                runner, () -> HostChecks.power(s.power), new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2),
                        65536), s.updateConfig().emergeCommand(), tmp.resolve("log"), tmp.resolve("state"),
                Clock.systemUTC(), s.registry);
        UpdateLoop loop = new UpdateLoop(runner, new UpdateSchedule("0 30 3 * * ?", Duration.ZERO,
                Duration.ofMinutes(10), false, Clock.systemUTC(), Optional.empty()), s.updateConfig(),
                Clock.systemUTC(), new dev.binhost.agent.health.Heartbeats(Clock.systemUTC()), prefetch);
        try {
            loop.start();
            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (prefetch.last().isEmpty() && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            Prefetch.Result r = prefetch.last().orElseThrow(() -> new AssertionError("no prefetch within 20 s"));
            assertEquals(Prefetch.Outcome.SUCCESS, r.outcome(), r.message());
            assertEquals(11, r.packages());
            assertTrue(runner.history().last().isEmpty(), "no update run");
            @SuppressWarnings("unchecked")
            Map<String, Object> status = (Map<String, Object>) loop.status().get("prefetch");
            assertEquals("* * * * * ?", status.get("cron"));
            assertTrue(java.time.Instant.parse((String) status.get("next")).isAfter(java.time.Instant.parse(r.startedAt())),
                    "the next one is planned: " + status);
        } finally {
            loop.close();
        }
    }

    @Test
    void binhostGoneSinceTheCheck_failed_notASuccessWithNothingFetched() throws Exception {
        // the real emerge --fetchonly with the binhost down: two lines of error, exit 0, no binary (record 76)
        Bed b = bed("76-", Duration.ofSeconds(30), List.of());
        Prefetch.Result r = b.prefetch().run();
        assertEquals(Prefetch.Outcome.FAILED, r.outcome(), r.message());
        assertEquals(0, r.exitCode());
        assertEquals("the binhost did not answer ([binhost-agent] http://127.0.0.1:18090: <urlopen error [Errno 111]"
                + " Connection refused>); 0 binary packages fetched (0 bytes) into " + b.downloads(), r.message());
    }

    @Test
    void aBinaryFailingItsDigest_failed_theOthersFetchedAndCounted_theRenamedOneNot() throws Exception {
        // record 77: demo-cli's binpkg 7 bytes too long; Portage renames it ….partial._checksum_failure_.<x>
        Bed b = bed("77-", Duration.ofSeconds(30), List.of());
        Prefetch.Result r = b.prefetch().run();
        assertEquals(Prefetch.Outcome.FAILED, r.outcome(), r.message());
        assertEquals(1, r.exitCode());
        assertEquals(10, r.packages(), r.message());
        assertEquals("emerge --fetchonly exited 1: app-misc/demo-cli-2.0 failed in the binary digest check (its size"
                + " does not match the binhost's Packages index: got 20487, expected 20480); 10 binary packages fetched"
                + " (204800 bytes) into " + b.downloads(), r.message());
        assertTrue(Files.exists(b.downloads().resolve(
                "app-misc/demo-cli/demo-cli-2.0-1.gpkg.tar.partial._checksum_failure_.wud7__yv")), "renamed, not counted");
    }

    private static int lineOf(String text) throws IOException {
        List<String> lines = Files.readAllLines(Recorded.of("69-").output());
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i + 1;
            }
        }
        throw new AssertionError("not in record 69: " + text);
    }

    private static RunPrecondition precondition(String name, Verdict v) {
        return new RunPrecondition() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Verdict check() {
                return v;
            }
        };
    }
}
