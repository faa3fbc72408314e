package dev.binhost.agent.control;

import dev.binhost.agent.cli.Cli;
import dev.binhost.agent.cli.CliConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile-input run's control-socket cases: a socket place another user controls is refused by the server
 * and by the CLI, a forged answer cannot reach root's terminal unescaped, and a flood of idle connections from
 * another user cannot hold up root's trigger.
 */
class ControlHardeningTest {
    @TempDir
    Path dir;

    private final List<ControlServer.Peer> triggeredBy = new CopyOnWriteArrayList<>();
    private ControlServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private ControlProtocol.Response handle(ControlProtocol.Request r, ControlServer.Peer peer) {
        if (r.action().equals("trigger") && peer.privileged()) {
            triggeredBy.add(peer);
            return new ControlProtocol.Response(true, "trigger", null, "QUEUED", "run queued", null);
        }
        return new ControlProtocol.Response(true, r.action(), null, null, null, Map.of());
    }

    /** The server refuses the place before binding; the CLI refuses it before connecting to what is there. */
    private void assertRefusedByServerAndClient(Path socket, String why) throws Exception {
        IOException atStart = assertThrows(IOException.class, () -> ControlServer.start(socket, 0600, 0, this::handle));
        assertTrue(atStart.getMessage().contains(why), atStart.getMessage());

        try (ServerSocketChannel forged = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            forged.bind(UnixDomainSocketAddress.of(socket));
            forged.configureBlocking(false);
            ControlClient.Unreachable e = assertThrows(ControlClient.Unreachable.class,
                    () -> new ControlClient(socket, Duration.ofSeconds(2)).call("trigger"));
            assertTrue(e.getMessage().contains(why), e.getMessage());
            assertNull(forged.accept(), "the CLI never connected to the socket in the unsafe directory");
        } finally {
            Files.deleteIfExists(socket);
        }
    }

    @Test
    void socketDirOwnedByAnotherUser_isRefused() throws Exception {
        Assumptions.assumeTrue(Unprivileged.uid() == 0, "chown needs root");
        Path run = Files.createDirectory(dir.resolve("run"));
        Files.setAttribute(run, "unix:uid", Unprivileged.NOBODY);
        assertRefusedByServerAndClient(run.resolve("control.sock"), "owned by uid " + Unprivileged.NOBODY);
    }

    @Test
    void socketDirWritableByOthers_isRefused() throws Exception {
        Path run = Files.createDirectory(dir.resolve("run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertRefusedByServerAndClient(run.resolve("control.sock"), "writable by group or others");
    }

    @Test
    void symlinkedSocketDir_isRefused() throws Exception {
        Path real = Files.createDirectory(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("run"), real);
        assertRefusedByServerAndClient(link.resolve("control.sock"), "is a symlink");
    }

    @Test
    void cli_escapesControlCharactersInTheAnswer() throws Exception {
        Path socket = dir.resolve("run/control.sock");
        Files.createDirectories(socket.getParent());
        String forged = "{\"ok\":true,\"action\":\"trigger\",\"result\":\"QUEUED\",\"message\":"
                + "\"ok\\u001b[2J\\u001b]0;pwned\\u0007\\rFORGED\\nbinhost-agent: all good\\u009b\"}\n";
        try (ServerSocketChannel agent = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            agent.bind(UnixDomainSocketAddress.of(socket));
            Thread answer = new Thread(() -> {
                try (SocketChannel c = agent.accept()) {
                    c.read(ByteBuffer.allocate(4096));
                    c.write(ByteBuffer.wrap(forged.getBytes(StandardCharsets.UTF_8)));
                } catch (IOException ignored) {
                    // the test's assertions say what went wrong
                }
            });
            answer.start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Cli cli = new Cli(CliConfig.of(Map.of("binhost.control.socket", socket.toString())),
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream()));

            assertEquals(Cli.OK, cli.run("trigger"));
            answer.join();
            String printed = out.toString(StandardCharsets.UTF_8);
            assertEquals("update run queued: ok\\x1b[2J\\x1b]0;pwned\\x07\\x0dFORGED\\x0abinhost-agent: all good\\u009b\n",
                    printed);
            assertTrue(printed.chars().noneMatch(ch -> (ch < 0x20 && ch != '\n') || (ch >= 0x7f && ch <= 0x9f)));
        } finally {
            Files.deleteIfExists(socket);
        }
    }

    private static final String FLOOD = """
            import java.io.*; import java.net.*; import java.nio.*; import java.nio.channels.*; import java.util.*;
            public class Flood {
                public static void main(String[] a) throws Exception {
                    List<SocketChannel> open = new ArrayList<>();
                    for (int i = 0; i < Integer.parseInt(a[1]); i++) {
                        try { open.add(SocketChannel.open(UnixDomainSocketAddress.of(a[0]))); }
                        catch (IOException e) { System.out.println("CONNECT-FAILED " + e.getMessage()); }
                    }
                    System.out.println("OPENED " + open.size());
                    System.out.flush();
                    new BufferedReader(new InputStreamReader(System.in)).readLine();
                    int closed = 0;
                    for (SocketChannel c : open) {
                        try { if (c.read(ByteBuffer.allocate(1)) < 0) closed++; } catch (IOException e) { closed++; }
                    }
                    System.out.println("CLOSED-BY-AGENT " + closed);
                }
            }
            """;

    @Test
    void idleFloodFromAnotherUser_doesNotHoldUpRootsTrigger_andIsLimited() throws Exception {
        Assumptions.assumeTrue(Unprivileged.possible(), "needs root and setpriv(1) to run a client as nobody");
        Path socket = dir.resolve("open/control.sock");
        server = ControlServer.start(socket, 0666, 0, this::handle);
        Unprivileged.openUp(socket.getParent());
        Path src = dir.resolve("Flood.java");
        Files.writeString(src, FLOOD);
        Unprivileged.openUp(dir);
        Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("rw-r--r--"));
        int flood = 40;
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of("setpriv", "--reuid=" + Unprivileged.NOBODY,
                "--regid=" + Unprivileged.NOBODY, "--clear-groups", java, "-XX:-UsePerfData", src.toString(),
                socket.toString(), Integer.toString(flood))).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String opened = lines.readLine();
            assertTrue(opened != null && opened.startsWith("OPENED "), String.valueOf(opened));

            long t0 = System.nanoTime();
            ControlProtocol.Response r = new ControlClient(socket, Duration.ofSeconds(30)).call("trigger");
            System.out.printf("root's trigger behind %s idle connections answered in %d ms%n", opened,
                    (System.nanoTime() - t0) / 1_000_000);

            assertEquals("QUEUED", r.result(), String.valueOf(r.message()));
            assertEquals(1, triggeredBy.size());
            assertTrue(server.limitedConnections() >= flood / 2,
                    "most of the flood was closed at once; limited " + server.limitedConnections());
            p.getOutputStream().close();
            String closed = lines.readLine();
            assertEquals("CLOSED-BY-AGENT " + opened.substring("OPENED ".length()), closed,
                    "every idle connection was closed by the agent, none is held");
        } finally {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        assertFalse(p.isAlive());
    }
}
