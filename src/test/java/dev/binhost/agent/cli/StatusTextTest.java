package dev.binhost.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The human status against real captures of the demo's {@code status --json} (src/test/resources/cli) and
 * hand-edited variants of them.
 */
class StatusTextTest {
    /** The "now" of the healthy capture: what the agent's clock said when it answered. */
    private static final Instant NOW = Instant.parse("2026-12-02T01:42:43.462010487Z");
    /** The "now" of the capture with the master's rsync daemon killed and a mount that cannot mount. */
    private static final Instant DOWN_NOW = Instant.parse("2026-12-02T01:44:43.252899414Z");

    static Map<String, Object> capture(String name) throws IOException {
        try (InputStream in = StatusTextTest.class.getResourceAsStream("/cli/" + name)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = new ObjectMapper().readValue(in, LinkedHashMap.class);
            return m;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> status, String name) {
        return (Map<String, Object>) status.get(name);
    }

    private static String render(Map<String, Object> status, Instant now) {
        return StatusText.render(status, Clock.fixed(now, ZoneOffset.UTC));
    }

    private static List<String> lines(String text) {
        return text.lines().toList();
    }

    @Test
    void healthyDemo_headlineThenOneLinePerAreaWithRelativeTimes() throws Exception {
        assertEquals("""
                binhost-agent 0.1.0-SNAPSHOT, pid 8995, up 55 s
                  master  UP for 50 s (127.0.0.1, probed 2 s ago)
                  mounts  none configured
                  config  pulled 25 s ago: live tree matches the master; next pull in 37 s
                  update  last run 20 s ago: success, 7 binary, 3 built; next run in 7 min
                """, render(capture("status-demo.json"), NOW));
    }

    @Test
    void masterDownDemo_everyAreaIsAProblem_eachWithItsReason() throws Exception {
        List<String> l = lines(render(capture("status-demo-down.json"), DOWN_NOW));
        assertEquals("binhost-agent 0.1.0-SNAPSHOT, pid 11044, up 1 min: 4 problems", l.get(0));
        assertEquals("! master  DOWN for 57 s (127.0.0.1, probed 3 s ago): 2 failed probe rounds in a row: rsync: "
                + "connection refused by 127.0.0.1:18730 (Connection refused)", l.get(1));
        assertTrue(l.get(2).startsWith("! mounts  packages ERROR for 1 min: `mount -t nfs4 "), l.get(2));
        assertTrue(l.get(3).startsWith("! config  last pull failed 17 s ago: rsync from rsync://127.0.0.1:18730/"
                + "portage-config/ exited 10: "), l.get(3));
        assertTrue(l.get(3).endsWith("; last good pull 1 min ago; next pull in 47 s"), l.get(3));
        assertTrue(l.get(4).startsWith("! update  last run 45 s ago: skipped: blocked by master-up (master "
                + "127.0.0.1 is DOWN"), l.get(4));
        assertEquals(5, l.size());
    }

    @Test
    void problemsFirst_inAreaOrder_thenHealthyAreas() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        Map<String, Object> last = section(section(s, "update"), "last");
        last.put("outcome", "failed");
        last.put("message", "emerge exited 1 at dev-libs/libdemo-1.2.3 (compile)");
        section(s, "config").put("heldSince", NOW.minusSeconds(2 * 3600 + 3 * 60).toString());

        List<String> l = lines(render(s, NOW));
        assertEquals("binhost-agent 0.1.0-SNAPSHOT, pid 8995, up 55 s: 2 problems", l.get(0));
        assertEquals("! config  held at a rolled-back set for 2h 3m (`binhost-agent pull-config` resumes pulls); "
                + "pulled 25 s ago: live tree matches the master; next pull in 37 s", l.get(1));
        assertEquals("! update  last run 20 s ago: failed: emerge exited 1 at dev-libs/libdemo-1.2.3 (compile); "
                + "next run in 7 min", l.get(2));
        assertTrue(l.get(3).startsWith("  master  UP"), l.get(3));
        assertTrue(l.get(4).startsWith("  mounts  none configured"), l.get(4));
    }

    @Test
    void masterDown_alone_isListedBeforeTheHealthyAreas() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        Map<String, Object> master = section(s, "master");
        master.put("status", "DOWN");
        master.put("since", NOW.minusSeconds(3 * 3600).toString());
        master.put("reason", "2 failed probe rounds in a row: rsync: connection refused");

        List<String> l = lines(render(s, NOW));
        assertEquals("! master  DOWN for 3h (127.0.0.1, probed 2 s ago): 2 failed probe rounds in a row: rsync: "
                + "connection refused", l.get(1));
        assertTrue(l.get(2).startsWith("  mounts"), l.get(2));
    }

    @Test
    void masterNotProbedYet_isAProblem() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        Map<String, Object> master = section(s, "master");
        master.put("status", "UNKNOWN");
        master.put("since", NOW.minusSeconds(4).toString());
        master.put("reason", "not probed yet");
        master.put("lastProbe", null);
        assertEquals("! master  UNKNOWN for 4 s (127.0.0.1, not probed yet): not probed yet",
                lines(render(s, NOW)).get(1));
    }

    @Test
    void staleConfig_saysSinceWhenOrThatItNeverPulled() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        Map<String, Object> config = section(s, "config");
        config.put("fresh", false);
        config.put("lastSuccess", NOW.minusSeconds(12 * 60).toString());
        config.put("lastAttempt", NOW.minusSeconds(12 * 60).toString());
        assertEquals("! config  stale: last good pull 12 min ago; pulled 12 min ago: live tree matches the master; "
                + "next pull in 37 s", lines(render(s, NOW)).get(1));

        config.put("lastSuccess", null);
        config.put("lastOutcome", "TIMED_OUT");
        config.put("lastAttempt", NOW.minusSeconds(61).toString());
        config.put("lastMessage", "rsync passed the 2m deadline");
        config.put("nextScheduled", NOW.minusSeconds(5).toString());
        assertEquals("! config  stale: no successful pull since the agent started; last pull timed out 1 min ago: "
                + "rsync passed the 2m deadline; next pull overdue by 5 s", lines(render(s, NOW)).get(1));
    }

    @Test
    void mounts_staleOneFirst_notMountedIsNoProblem() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        Map<String, Object> mounts = new LinkedHashMap<>();
        mounts.put("distfiles", mount("MOUNTED", NOW.minusSeconds(7200), "answering"));
        mounts.put("packages", mount("STALE", NOW.minusSeconds(90), "probe timed out after 5s"));
        s.put("mounts", mounts);
        assertEquals("! mounts  packages STALE for 1 min: probe timed out after 5s; distfiles mounted",
                lines(render(s, NOW)).get(1));

        mounts.remove("distfiles");
        mounts.put("packages", mount("NOT_MOUNTED", NOW.minusSeconds(90), "released: master DOWN"));
        String text = render(s, NOW);
        assertTrue(text.contains("\n  mounts  packages not mounted: released: master DOWN\n"), text);
        assertTrue(!text.contains("problem"), text);
    }

    private static Map<String, Object> mount(String phase, Instant since, String detail) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", "/var/cache/binpkgs");
        m.put("phase", phase);
        m.put("ownedByAgent", true);
        m.put("since", since.toString());
        m.put("detail", detail);
        m.put("releasePending", false);
        m.put("lastProbe", NOW.minusSeconds(3).toString());
        m.put("lastProbeMillis", 4);
        return m;
    }

    @Test
    void prefetch_lastAndNext_orWhyItDidNotRun_neverAProblem() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        Map<String, Object> update = section(s, "update");
        Map<String, Object> last = new LinkedHashMap<>();
        last.put("outcome", "success");
        last.put("endedAt", NOW.minusSeconds(2 * 3600).toString());
        last.put("packages", 11);
        last.put("bytes", 225280);
        Map<String, Object> prefetch = new LinkedHashMap<>();
        prefetch.put("cron", "0 0 2 * * ?");
        prefetch.put("next", NOW.plusSeconds(22 * 3600).toString());
        prefetch.put("running", false);
        prefetch.put("last", last);
        update.put("prefetch", prefetch);
        String line = lines(render(s, NOW)).stream().filter(l -> l.contains(" update ")).findFirst().orElseThrow();
        assertTrue(line.endsWith("; last prefetch 2h ago: success, 11 binaries (220 KiB); next prefetch in 22h"), line);
        assertFalse(line.startsWith("!"), line);

        last.put("outcome", "skipped");
        last.put("message", "not run: on battery (a prefetch runs only on mains power)");
        line = lines(render(s, NOW)).stream().filter(l -> l.contains(" update ")).findFirst().orElseThrow();
        assertTrue(line.contains("; last prefetch 2h ago: skipped: not run: on battery (a prefetch runs only on mains"
                + " power); next prefetch in 22h"), line);
        assertFalse(line.startsWith("!"), "a prefetch not run is no problem: " + line);
    }

    @Test
    void runInProgress_andBoundariesOfTheScale() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        Map<String, Object> update = section(s, "update");
        update.put("running", Map.of("id", "20261202T014217Z-445f", "reason", "trigger", "phase", "apply",
                "startedAt", NOW.minusSeconds(60).toString(), "progress", "(3 of 10) dev-libs/libdemo-1.2.3"));
        update.put("queued", true);
        Map<String, Object> master = section(s, "master");

        master.put("since", NOW.minusMillis(59_999).toString());
        String text = render(s, NOW);
        assertTrue(text.contains("  master  UP for 59 s ("), text);
        assertTrue(text.contains("  update  running for 1 min (trigger, apply, (3 of 10) dev-libs/libdemo-1.2.3); "
                + "last run 20 s ago: success, 7 binary, 3 built; another run queued; next run in 7 min\n"), text);

        master.put("since", NOW.minusSeconds(60).toString());
        assertTrue(render(s, NOW).contains("  master  UP for 1 min ("));
        master.put("since", NOW.minusSeconds(3600).toString());
        assertTrue(render(s, NOW).contains("  master  UP for 1h ("));
        master.put("since", NOW.minusSeconds(86400 + 3599).toString());
        assertTrue(render(s, NOW).contains("  master  UP for 1d ("));
        section(s, "agent").put("uptimeSeconds", 2 * 3600 + 3 * 60 + 59);
        assertTrue(render(s, NOW).startsWith("binhost-agent 0.1.0-SNAPSHOT, pid 8995, up 2h 3m\n"));
    }

    @Test
    void lastRunPartial_isAProblem_countsAreWhatWasInstalled_andTheNoticesAreShown() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        @SuppressWarnings("unchecked")
        Map<String, Object> last = (Map<String, Object>) section(s, "update").get("last");
        last.put("outcome", "success");
        last.put("installedBinary", 6);
        last.put("installedCompiled", 2);
        last.put("notices", List.of("1 config file needs updating: /etc/demo-daemon.conf", "1 unread news item"));
        String text = render(s, NOW);
        assertTrue(text.contains("last run 20 s ago: success, 6 binary, 2 built; emerge left for you: 1 config file "
                + "needs updating: /etc/demo-daemon.conf, 1 unread news item;"), text);

        last.put("outcome", "partial");
        last.put("message", "merged 3 of 3 packages (3 binary, 0 compiled); not installed: app-misc/demo-cli (no usable"
                + " binary on the master (binaries only))");
        last.remove("notices");
        text = render(s, NOW);
        assertTrue(text.contains("last run 20 s ago: partial: merged 3 of 3 packages"), text);
        assertTrue(lines(text).get(1).startsWith("! "), "a partial run is listed first as a problem: " + text);
    }

    @Test
    void unknownSections_shownRaw_anErrorEntryIsAProblem() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        Map<String, Object> health = new LinkedHashMap<>();
        health.put("state", "degraded");
        health.put("checks", List.of("master", "mounts"));
        health.put("since", null);
        health.put("counts", Map.of("ok", 3));
        s.put("health", health);
        s.put("power", Map.of("error", "java.lang.IllegalStateException: no power supply class"));

        List<String> l = lines(render(s, NOW));
        assertEquals("! power   error=java.lang.IllegalStateException: no power supply class", l.get(1));
        assertEquals("  health  state=degraded, checks=[master, mounts], counts={ok=3}", l.get(6));
        assertTrue(l.get(2).startsWith("  master  UP"), l.get(2));
    }

    @Test
    void knownSectionsMissingKeys_fallBackToTheirRawValues() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        section(s, "master").remove("status");
        section(s, "update").remove("last");
        s.put("mounts", Map.of("packages", Map.of("target", "/var/cache/binpkgs")));
        s.put("config", "unreadable");
        s.remove("agent");

        List<String> l = lines(render(s, NOW));
        assertEquals("binhost-agent (the agent sent no agent section)", l.get(0));
        assertEquals("  master  host=127.0.0.1, since=2026-12-02T01:41:53.150516083Z, reason=all probes answered: "
                + "rsync: @RSYNCD: 32.0 sha512 sha256 sha1 md5 md4, lastProbe=2026-12-02T01:42:41.019705402Z", l.get(1));
        assertEquals("  mounts  packages={target=/var/cache/binpkgs}", l.get(2));
        assertEquals("  config  unreadable", l.get(3));
        assertEquals("  update  queued=false, pending=0, nextScheduled=2026-12-02T01:50:08.837Z, catchUpOwed=false",
                l.get(4));
        assertEquals(5, l.size());
    }

    @Test
    void keysOtherEngineersAdd_changeNothing() throws Exception {
        Map<String, Object> s = capture("status-demo.json");
        String before = render(s, NOW);
        for (String area : List.of("agent", "master", "config", "update")) {
            section(s, area).put("state", "fine");
        }
        section(s, "master").put("failuresInARow", 0);
        section(section(s, "update"), "last").put("installedBinary", 7);
        assertEquals(before, render(s, NOW));
    }
}
