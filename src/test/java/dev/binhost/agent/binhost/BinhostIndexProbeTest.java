package dev.binhost.agent.binhost;

import com.sun.net.httpserver.HttpServer;
import dev.binhost.agent.master.ProbeResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP binhost's index probe against a loopback server that serves good, stale and broken indexes. */
class BinhostIndexProbeTest {
    private static final Duration T = Duration.ofSeconds(3);
    /** A real master's index (15 binaries, TIMESTAMP 1795487033). */
    private static final Path INDEX = Path.of("src/test/resources/fixtures/e2e/Packages");
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1795487033L + 3 * 3600), ZoneOffset.UTC);

    @TempDir
    Path state;
    private HttpServer server;
    private final AtomicReference<byte[]> body = new AtomicReference<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicInteger notModified = new AtomicInteger();
    /** Packages.gz, or null for none there (404), as a master without FEATURES=compress-index. */
    private final AtomicReference<byte[]> gzBody = new AtomicReference<>();
    private final AtomicInteger gzRequests = new AtomicInteger();

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/binpkgs/Packages", ex -> {
            boolean gz = ex.getRequestURI().getPath().endsWith("/Packages.gz");
            gzRequests.addAndGet(gz ? 1 : 0);
            if (gz && gzBody.get() == null) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            String since = ex.getRequestHeaders().getFirst("If-Modified-Since");
            if ("Tue, 01 Dec 2026 10:00:00 GMT".equals(since)) {
                notModified.incrementAndGet();
                ex.sendResponseHeaders(304, -1);
                ex.close();
                return;
            }
            byte[] b = gz ? gzBody.get() : body.get();
            ex.getResponseHeaders().add("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT");
            ex.sendResponseHeaders(status.get(), b.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private BinhostIndexProbe probe(URI url, long max) {
        return new BinhostIndexProbe(url, state.resolve("binhost/Packages"), max, T, T, CLOCK);
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/binpkgs/Packages");
    }

    @Test
    void aGoodIndex_isUp_tellsItsAge_isKept_andThenCostsA304() throws IOException {
        byte[] good = Files.readAllBytes(INDEX);
        body.set(good);
        BinhostIndexProbe p = probe(url(), 1 << 20);
        ProbeResult r = p.probe();
        assertTrue(r.ok(), r.detail());
        assertEquals("15 packages, written 2026-11-24T02:23:53Z (3h ago)", r.detail());
        assertEquals(15, p.seen().orElseThrow().packages());
        assertArrayEquals(good, Files.readAllBytes(p.copy()));
        ProbeResult again = p.probe();
        assertTrue(again.ok(), again.detail());
        assertTrue(again.detail().startsWith("index unchanged (HTTP 304)"), again.detail());
        assertEquals(1, notModified.get());
    }

    @Test
    void brokenIndexes_areDown_withWhy_andNeverReplaceTheLastGoodCopy() throws IOException {
        byte[] good = Files.readAllBytes(INDEX);
        body.set(good);
        // a fresh probe each time, so no If-Modified-Since makes the server answer 304
        assertTrue(probe(url(), 1 << 20).probe().ok());
        String text = new String(good, StandardCharsets.UTF_8);

        body.set(text.substring(0, text.indexOf("CPV: app-misc")).getBytes(StandardCharsets.UTF_8));
        ProbeResult cut = probe(url(), 1 << 20).probe();
        assertFalse(cut.ok());
        assertTrue(cut.detail().startsWith("unusable index: ") && cut.detail().contains("cut short"), cut.detail());

        body.set(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, (byte) 0xff, 10});
        ProbeResult garbage = probe(url(), 1 << 20).probe();
        assertFalse(garbage.ok());
        assertTrue(garbage.detail().contains("not a Packages index (not UTF-8 text)"), garbage.detail());

        body.set("<html><body>It works!</body></html>\n\n".getBytes(StandardCharsets.UTF_8));
        ProbeResult html = probe(url(), 1 << 20).probe();
        assertFalse(html.ok());
        assertTrue(html.detail().contains("not 'KEY: value'"), html.detail());

        body.set(text.replaceFirst("TIMESTAMP: \\d+\n", "").getBytes(StandardCharsets.UTF_8));
        ProbeResult noStamp = probe(url(), 1 << 20).probe();
        assertFalse(noStamp.ok());
        assertTrue(noStamp.detail().contains("no TIMESTAMP"), noStamp.detail());

        body.set(good);
        ProbeResult big = probe(url(), 4096).probe();
        assertFalse(big.ok());
        assertTrue(big.detail().contains("more than binhost.packages.index-max-bytes=4096"), big.detail());

        status.set(404);
        ProbeResult missing = probe(url(), 1 << 20).probe();
        assertFalse(missing.ok());
        assertEquals("HTTP 404 from " + url(), missing.detail());

        assertArrayEquals(good, Files.readAllBytes(state.resolve("binhost/Packages")), "the last good copy stays");
    }

    /**
     * A master with FEATURES=compress-index serves Packages.gz beside Packages, and Portage reads only the .gz
     * (record 68: with both cut, it planned from the 4 entries it got and built the other 7, exit 0, no warning).
     */
    @Test
    void packagesGz_isReadFirst_asPortageDoes_andACutOneIsDown_evenBesideAGoodPackages() throws IOException {
        byte[] good = Files.readAllBytes(INDEX);
        body.set("not what Portage reads\n".getBytes(StandardCharsets.UTF_8));
        gzBody.set(gzip(good));
        BinhostIndexProbe p = probe(url(), 1 << 20);
        ProbeResult r = p.probe();
        assertTrue(r.ok(), r.detail());
        assertEquals(15, p.seen().orElseThrow().packages());
        assertEquals(URI.create(url() + ".gz"), p.seen().orElseThrow().source());
        assertArrayEquals(good, Files.readAllBytes(p.copy()), "the copy kept is the index itself, uncompressed");
        assertTrue(p.probe().detail().startsWith("index unchanged (HTTP 304)"), "conditional on the .gz it read");

        String text = new String(good, StandardCharsets.UTF_8);
        body.set(good);
        gzBody.set(gzip(text.substring(0, text.indexOf("CPV: app-misc")).getBytes(StandardCharsets.UTF_8)));
        ProbeResult cutIndex = probe(url(), 1 << 20).probe();
        assertFalse(cutIndex.ok(), "Portage would plan from the cut one: " + cutIndex.detail());
        assertTrue(cutIndex.detail().startsWith("unusable index: ") && cutIndex.detail().contains("cut short"),
                cutIndex.detail());

        byte[] whole = gzip(good);
        gzBody.set(java.util.Arrays.copyOf(whole, whole.length / 2));
        ProbeResult cutGzip = probe(url(), 1 << 20).probe();
        assertFalse(cutGzip.ok());
        assertTrue(cutGzip.detail().contains("Packages.gz: not a whole gzip file"), cutGzip.detail());

        gzBody.set(gzip(new byte[8192]));
        ProbeResult bomb = probe(url(), 4096).probe();
        assertFalse(bomb.ok());
        assertTrue(bomb.detail().contains("more than binhost.packages.index-max-bytes=4096 bytes uncompressed"),
                bomb.detail());
        assertArrayEquals(good, Files.readAllBytes(state.resolve("binhost/Packages")), "the last good copy stays");
    }

    @Test
    void noPackagesGz_fallsBackToPackages() throws IOException {
        body.set(Files.readAllBytes(INDEX));
        BinhostIndexProbe p = probe(url(), 1 << 20);
        assertTrue(p.probe().ok());
        assertEquals(url(), p.seen().orElseThrow().source());
        assertEquals(1, gzRequests.get(), "asked for Packages.gz first");
    }

    private static byte[] gzip(byte[] data) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    @Test
    void aResponseCutShortOfItsContentLength_isDown() throws Exception {
        byte[] good = Files.readAllBytes(INDEX);
        try (ServerSocket raw = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = raw.accept()) {
                    s.getInputStream().read(new byte[4096]);
                    OutputStream out = s.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + good.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(good, 0, good.length / 2);
                    out.flush();
                } catch (IOException ignored) {
                    // the probe's side is what is tested
                }
            });
            t.start();
            ProbeResult r = probe(URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/Packages"), 1 << 20).probe();
            t.join(5000);
            assertFalse(r.ok());
            assertTrue(r.detail().contains("cut short") || r.detail().contains("did not answer"), r.detail());
        }
        assertFalse(Files.exists(state.resolve("binhost/Packages")));
    }

    @Test
    void aBinhostThatIsNotThere_isDownWithinTheTimeouts() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ProbeResult r = probe(URI.create("http://127.0.0.1:" + port + "/binpkgs/Packages"), 1 << 20).probe();
        assertFalse(r.ok());
        assertTrue(r.detail().startsWith("binhost http://127.0.0.1:" + port + "/binpkgs/Packages.gz did not answer"),
                r.detail());
    }
}
