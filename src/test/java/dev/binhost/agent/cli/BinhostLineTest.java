package dev.binhost.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.binhost.agent.binhost.Binhost;
import dev.binhost.agent.binhost.PackagesConfig;
import dev.binhost.agent.config.AgentConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The binhost area of {@code binhost-agent status}, from the agent's own section sent as JSON. */
class BinhostLineTest {
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1795487033L + 2 * 3600 + 300),
            ZoneOffset.UTC);

    @TempDir
    Path tmp;

    @SuppressWarnings("unchecked")
    private static StatusLine line(Binhost b) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> sent = json.readValue(json.writeValueAsString(b.status()), Map.class);
        return StatusText.line("binhost", sent, CLOCK.instant());
    }

    private Binhost binhost(String url, Path binrepos) {
        PackagesConfig c = AgentConfigs.of(Map.of("binhost.master.host", "master", "binhost.packages.transport", "http",
                "binhost.packages.url", url, "binhost.packages.binrepos", binrepos.toString()))
                .getConfigMapping(PackagesConfig.class);
        return new Binhost(c, tmp.resolve("state"), Duration.ofSeconds(2), Duration.ofSeconds(2), CLOCK);
    }

    @Test
    void nfs_isOneQuietLine() throws Exception {
        PackagesConfig c = AgentConfigs.of(Map.of("binhost.master.host", "master")).getConfigMapping(PackagesConfig.class);
        StatusLine l = line(new Binhost(c, tmp, Duration.ofSeconds(1), Duration.ofSeconds(1), CLOCK));
        assertFalse(l.problem());
        assertEquals("nfs (the master's PKGDIR, see mounts)", l.text());
    }

    @Test
    void http_namesTheBinhost_theIndexAge_andWhatIsWrong() throws Exception {
        byte[] index = Files.readAllBytes(Path.of("src/test/resources/fixtures/e2e/Packages"));
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/binpkgs/Packages", ex -> {
            if (ex.getRequestURI().getPath().endsWith(".gz")) { // a master without FEATURES=compress-index
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            ex.sendResponseHeaders(200, index.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(index);
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/binpkgs";
            Path binrepos = tmp.resolve("binrepos.conf");
            Binhost b = binhost(url, binrepos);
            StatusLine before = line(b);
            assertTrue(before.problem());
            assertEquals("http " + url + ": index not fetched yet", before.text());

            assertTrue(b.probe().orElseThrow().probe().ok());
            StatusLine fetched = line(b);
            assertFalse(fetched.problem(), fetched.text());
            assertTrue(fetched.text().startsWith("http " + url + ": 15 packages, index written 2h 5m ago, checked "),
                    fetched.text());

            Files.writeString(binrepos, "[mine]\nsync-uri = " + url + "\n");
            assertFalse(b.ensure().ok());
            StatusLine wrong = line(b);
            assertTrue(wrong.problem());
            assertTrue(wrong.text().contains("; binrepos.conf: " + binrepos + " is a file (the admin's)"), wrong.text());
        } finally {
            server.stop(0);
        }
    }
}
