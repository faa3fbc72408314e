package dev.binhost.agent.master;

import dev.binhost.agent.testing.RsyncDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProbesTest {
    private static final Duration CONNECT = Duration.ofMillis(500);
    private static final Duration READ = Duration.ofMillis(500);

    @TempDir
    Path tmp;

    @Test
    void rsync_againstARealDaemon_succeedsWithItsGreeting() throws Exception {
        Files.createDirectories(tmp.resolve("tree/make.conf"));
        try (RsyncDaemon daemon = RsyncDaemon.serve(tmp.resolve("d"), "portage-config", tmp.resolve("tree"))) {
            ProbeResult r = new RsyncProbe("127.0.0.1", daemon.port, CONNECT, READ).probe();
            assertTrue(r.ok(), r.detail());
            assertTrue(r.detail().startsWith("@RSYNCD: "), r.detail());
        }
    }

    @Test
    void rsync_whenPortIsClosed_failsSayingRefused() throws Exception {
        int port = RsyncDaemon.freePort();
        ProbeResult r = new RsyncProbe("127.0.0.1", port, CONNECT, READ).probe();
        assertFalse(r.ok());
        assertTrue(r.detail().startsWith("connection refused by 127.0.0.1:" + port), r.detail());
    }

    @Test
    void rsync_whenServerAcceptsButNeverGreets_failsWithinItsTimeouts() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread acceptor = acceptAndHold(silent, null);
            ProbeResult r = new RsyncProbe("127.0.0.1", silent.getLocalPort(), CONNECT, READ).probe();
            assertFalse(r.ok());
            assertTrue(r.detail().startsWith("greeting timed out at 127.0.0.1:"), r.detail());
            assertTrue(r.took().compareTo(CONNECT.plus(READ).plusSeconds(1)) < 0, "bounded by the timeouts: " + r.took());
            acceptor.interrupt();
        }
    }

    @Test
    void rsync_whenAnotherServiceAnswers_failsNamingWhatItSaid() throws Exception {
        try (ServerSocket http = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            acceptAndHold(http, "HTTP/1.1 400 Bad Request\r\n");
            ProbeResult r = new RsyncProbe("127.0.0.1", http.getLocalPort(), CONNECT, READ).probe();
            assertFalse(r.ok());
            assertTrue(r.detail().contains("is not an rsync daemon (said 'HTTP/1.1 400 Bad Request?')"), r.detail());
        }
    }

    @Test
    void nfs_rpcNullCall_isWellFormedAndAnAcceptedReplySucceeds() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            int[] seen = new int[6];
            Thread responder = rpcResponder(server, seen, 0);
            ProbeResult r = new NfsProbe("127.0.0.1", server.getLocalPort(), 4, true, CONNECT, READ).probe();
            responder.join(2000);
            assertTrue(r.ok(), r.detail());
            assertEquals(0, seen[1], "message type CALL");
            assertEquals(2, seen[2], "RPC version 2");
            assertEquals(100003, seen[3], "NFS program");
            assertEquals(4, seen[4], "NFS version");
            assertEquals(0, seen[5], "NULL procedure");
        }
    }

    @Test
    void nfs_whenServerDoesNotRunTheNfsProgram_failsNamingTheRpcStatus() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            rpcResponder(server, new int[6], 1);
            ProbeResult r = new NfsProbe("127.0.0.1", server.getLocalPort(), 4, true, CONNECT, READ).probe();
            assertFalse(r.ok());
            assertTrue(r.detail().endsWith("rejected the NFS NULL call: PROG_UNAVAIL"), r.detail());
        }
    }

    @Test
    void nfs_whenPortIsClosed_failsInTcpModeToo() throws Exception {
        ProbeResult r = new NfsProbe("127.0.0.1", RsyncDaemon.freePort(), 4, false, CONNECT, READ).probe();
        assertFalse(r.ok());
        assertTrue(r.detail().startsWith("connection refused"), r.detail());
    }

    @Test
    void http_answersByStatus() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            acceptAndHold(server, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            ProbeResult r = new HttpProbe(java.net.URI.create("http://127.0.0.1:" + server.getLocalPort() + "/Packages"),
                    CONNECT, READ).probe();
            assertFalse(r.ok());
            assertTrue(r.detail().startsWith("HTTP 404 from"), r.detail());
        }
        try (ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            acceptAndHold(server, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
            ProbeResult r = new HttpProbe(java.net.URI.create("http://127.0.0.1:" + server.getLocalPort() + "/Packages"),
                    CONNECT, READ).probe();
            assertTrue(r.ok(), r.detail());
        }
    }

    /** Accepts one connection, optionally writes a canned answer, and holds the connection open. */
    private static Thread acceptAndHold(ServerSocket server, String answer) {
        CountDownLatch never = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try (Socket s = server.accept()) {
                if (answer != null) {
                    OutputStream out = s.getOutputStream();
                    out.write(answer.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                never.await();
            } catch (IOException | InterruptedException ignored) {
                // test over
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Reads one RPC call per RFC 5531 and answers it as an RPC server would, with the given accept status. */
    private static Thread rpcResponder(ServerSocket server, int[] seen, int acceptStat) {
        Thread t = new Thread(() -> {
            try (Socket s = server.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                int mark = in.readInt();
                byte[] body = new byte[mark & 0x7fffffff];
                in.readFully(body);
                DataInputStream call = new DataInputStream(new java.io.ByteArrayInputStream(body));
                for (int i = 0; i < 6; i++) {
                    seen[i] = call.readInt();
                }
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeInt(0x80000000 | 24);
                out.writeInt(seen[0]); // xid
                out.writeInt(1);       // REPLY
                out.writeInt(0);       // MSG_ACCEPTED
                out.writeInt(0);       // verifier AUTH_NONE
                out.writeInt(0);       // verifier length
                out.writeInt(acceptStat);
                out.flush();
            } catch (IOException ignored) {
                // test over
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }
}
