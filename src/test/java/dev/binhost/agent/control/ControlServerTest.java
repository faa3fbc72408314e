package dev.binhost.agent.control;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlServerTest {
    @TempDir
    Path dir;

    private final List<ControlServer.Peer> triggeredBy = new CopyOnWriteArrayList<>();
    private ControlServer server;

    /** Status for anyone, trigger for privileged peers: the same rule as the agent's ControlActions. */
    private ControlProtocol.Response handle(ControlProtocol.Request r, ControlServer.Peer peer) {
        return switch (r.action()) {
            case "status" -> new ControlProtocol.Response(true, "status", null, null, null, Map.of("master", Map.of("status", "UP")));
            case "trigger" -> {
                if (!peer.privileged()) {
                    yield ControlProtocol.Response.failed("trigger", "denied", "trigger needs root; user " + peer.user());
                }
                triggeredBy.add(peer);
                yield new ControlProtocol.Response(true, "trigger", null, "QUEUED", "run queued", null);
            }
            case "boom" -> throw new IllegalStateException("handler broke");
            default -> ControlProtocol.Response.failed(r.action(), "unknown-action", "no");
        };
    }

    private ControlServer start(Path socket, String mode) throws IOException {
        server = ControlServer.start(socket, ControlServer.parseMode(mode), 0, this::handle);
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void start_createsTheSocketWithMode0600_andRootReadsStatus() throws Exception {
        Path socket = dir.resolve("run/control.sock");
        start(socket, "0600");

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertTrue(Files.isDirectory(socket.getParent()));
        try (var s = Files.list(socket.getParent())) {
            assertEquals(List.of(socket), s.toList(), "the staging directory is gone");
        }
        ControlProtocol.Response r = new ControlClient(socket, Duration.ofSeconds(5)).call("status");
        assertTrue(r.ok());
        assertEquals(Map.of("status", "UP"), r.status().get("master"));
    }

    @Test
    void trigger_fromRoot_reachesTheHandlerAsPrivileged() throws Exception {
        Assumptions.assumeTrue(Unprivileged.uid() == 0, "the privileged path needs the test to run as root");
        Path socket = dir.resolve("control.sock");
        start(socket, "0600");

        ControlProtocol.Response r = new ControlClient(socket, Duration.ofSeconds(5)).call("trigger");
        assertEquals("QUEUED", r.result());
        assertEquals(1, triggeredBy.size());
        assertEquals("root", triggeredBy.get(0).user());
    }

    @Test
    void trigger_fromNobodyOnAWorldWritableSocket_isDeniedByThePeersUid() throws Exception {
        Assumptions.assumeTrue(Unprivileged.possible(), "needs root and setpriv(1) to run a client as nobody");
        Path socket = dir.resolve("open/control.sock");
        start(socket, "0666");
        Unprivileged.openUp(socket.getParent());

        JsonNode trigger = ControlProtocol.mapper().readTree(
                Unprivileged.send(socket, "{\"action\":\"trigger\",\"requestedBy\":\"root\"}", dir));
        assertEquals("denied", trigger.get("error").asText(), trigger.toString());
        assertTrue(triggeredBy.isEmpty(), "the handler never queued a run");

        JsonNode status = ControlProtocol.mapper().readTree(Unprivileged.send(socket, "{\"action\":\"status\"}", dir));
        assertTrue(status.get("ok").asBoolean(), status.toString());
    }

    @Test
    void connect_fromNobodyOnThe0600Socket_isRefusedByTheKernel() throws Exception {
        Assumptions.assumeTrue(Unprivileged.possible(), "needs root and setpriv(1) to run a client as nobody");
        Path socket = dir.resolve("closed/control.sock");
        start(socket, "0600");
        Unprivileged.openUp(socket.getParent());

        assertEquals("CONNECT-FAILED Permission denied",
                Unprivileged.send(socket, "{\"action\":\"trigger\"}", dir));
        assertTrue(triggeredBy.isEmpty());
    }

    @Test
    void badRequests_getANamedErrorAndTheServerKeepsServing() throws Exception {
        Path socket = dir.resolve("control.sock");
        start(socket, "0600");

        assertEquals("bad-request", raw(socket, "not json\n").get("error").asText());
        assertEquals("bad-request", raw(socket, "{}\n").get("error").asText());
        assertEquals("bad-request", raw(socket, "{\"action\":\"" + "x".repeat(5000) + "\"}\n").get("error").asText());
        assertEquals("unknown-action", raw(socket, "{\"action\":\"reboot\"}\n").get("error").asText());
        JsonNode broke = raw(socket, "{\"action\":\"boom\"}\n");
        assertEquals("unavailable", broke.get("error").asText());
        assertTrue(broke.get("message").asText().contains("handler broke"));
        assertTrue(new ControlClient(socket, Duration.ofSeconds(5)).call("status").ok());
    }

    @Test
    void start_whileAnotherAgentListens_refusesAndLeavesItsSocketAlone() throws Exception {
        Path socket = dir.resolve("control.sock");
        start(socket, "0600");

        IOException e = assertThrows(IOException.class,
                () -> ControlServer.start(socket, 0600, 0, this::handle));
        assertTrue(e.getMessage().contains("another agent is already listening"), e.getMessage());
        assertTrue(new ControlClient(socket, Duration.ofSeconds(5)).call("status").ok());
    }

    @Test
    void start_overAStaleSocketFile_replacesIt_andCloseRemovesIt() throws Exception {
        Path socket = dir.resolve("control.sock");
        ControlServer first = ControlServer.start(socket, 0600, 0, this::handle);
        // A crashed agent leaves its socket file behind; simulate by keeping the file and closing the channel.
        Path keep = dir.resolve("kept");
        Files.createLink(keep, socket);
        first.close();
        Files.move(keep, socket);

        start(socket, "0600");
        assertTrue(new ControlClient(socket, Duration.ofSeconds(5)).call("status").ok());
        server.close();
        assertFalse(Files.exists(socket));
        server = null;
    }

    @Test
    void client_withoutAnAgent_saysNotRunning() {
        ControlClient.Unreachable e = assertThrows(ControlClient.Unreachable.class,
                () -> new ControlClient(dir.resolve("none.sock"), Duration.ofSeconds(1)).call("status"));
        assertFalse(e.denied());
        assertTrue(e.getMessage().startsWith("the agent is not running"), e.getMessage());
    }

    @Test
    void parseMode_acceptsOctalOnly() {
        assertEquals(0600, ControlServer.parseMode("0600"));
        assertEquals(0666, ControlServer.parseMode("666"));
        assertEquals(-1, ControlServer.parseMode("0800"));
        assertEquals(-1, ControlServer.parseMode("rw-------"));
    }

    private static JsonNode raw(Path socket, String text) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            c.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ByteBuffer b = ByteBuffer.allocate(65536);
            while (c.read(b) >= 0) {
                if (!b.hasRemaining()) {
                    break;
                }
            }
            return ControlProtocol.mapper().readTree(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
        }
    }
}
