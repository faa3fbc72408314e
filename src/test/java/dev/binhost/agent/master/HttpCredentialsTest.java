package dev.binhost.agent.master;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A user:password in binhost.master.http-binhost is sent as Basic auth and never shown. */
class HttpCredentialsTest {
    static final Duration T = Duration.ofSeconds(2);

    @Test
    void redacted_masksThePasswordAndKeepsTheRest() {
        assertEquals("https://binuser:***@master.lan:8443/packages/Packages",
                HttpProbe.redacted(URI.create("https://binuser:s3cret@master.lan:8443/packages/Packages")));
        assertEquals("http://master/Packages", HttpProbe.redacted(URI.create("http://master/Packages")));
    }

    @Test
    void probe_withCredentials_sendsBasicAuth_andItsMessagesHideThePassword() throws Exception {
        List<String> auth = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/ok", x -> {
            auth.add(String.valueOf(x.getRequestHeaders().getFirst("Authorization")));
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        server.createContext("/broken", x -> {
            x.sendResponseHeaders(500, -1);
            x.close();
        });
        server.start();
        try {
            String base = "http://binuser:s3cret@127.0.0.1:" + server.getAddress().getPort();
            ProbeResult ok = new HttpProbe(URI.create(base + "/ok"), T, T).probe();
            ProbeResult broken = new HttpProbe(URI.create(base + "/broken"), T, T).probe();

            assertTrue(ok.ok(), ok.detail());
            assertEquals(List.of("Basic " + Base64.getEncoder().encodeToString(
                    "binuser:s3cret".getBytes(StandardCharsets.UTF_8))), auth);
            assertFalse(broken.ok());
            for (ProbeResult r : List.of(ok, broken)) {
                assertFalse(r.detail().contains("s3cret"), r.detail());
                assertTrue(r.detail().contains("binuser:***@127.0.0.1"), r.detail());
            }
        } finally {
            server.stop(0);
        }
        ProbeResult refused = new HttpProbe(URI.create("http://binuser:s3cret@127.0.0.1:"
                + server.getAddress().getPort() + "/ok"), T, T).probe();
        assertFalse(refused.ok());
        assertFalse(refused.detail().contains("s3cret"), refused.detail());
    }

    @Test
    void configProblem_aboutABadUrl_hidesThePassword() {
        MasterConfig c = new io.smallrye.config.SmallRyeConfigBuilder().withMapping(MasterConfig.class)
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withSources(new io.smallrye.config.PropertiesConfigSource(java.util.Map.of("binhost.master.host",
                        "master", "binhost.master.http-binhost", "ftp://binuser:s3cret@master/Packages"), "test", 100))
                .build().getConfigMapping(MasterConfig.class);
        String problems = String.join("\n", c.problems());
        assertTrue(problems.contains("binhost.master.http-binhost"), problems);
        assertFalse(problems.contains("s3cret"), problems);
    }
}
