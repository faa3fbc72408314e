package dev.binhost.agent.control;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a raw control-socket client as user nobody (setpriv), so tests see what the kernel and the agent do
 * with a real unprivileged peer. The client is a single Java source file run by this JVM's java launcher.
 */
final class Unprivileged {
    static final int NOBODY = 65534;

    private static final String CLIENT = """
            import java.net.*; import java.nio.*; import java.nio.channels.*; import java.nio.charset.*;
            public class Client {
                public static void main(String[] a) throws Exception {
                    try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                        try { c.connect(UnixDomainSocketAddress.of(a[0])); }
                        catch (SocketException e) { System.out.println("CONNECT-FAILED " + e.getMessage()); return; }
                        c.write(ByteBuffer.wrap((a[1] + "\\n").getBytes(StandardCharsets.UTF_8)));
                        ByteBuffer b = ByteBuffer.allocate(65536);
                        while (c.read(b) >= 0) { }
                        System.out.print(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
                    }
                }
            }
            """;

    private Unprivileged() {
    }

    static boolean possible() {
        return Files.isExecutable(Path.of("/usr/bin/setpriv")) && uid() == 0;
    }

    static int uid() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .map(l -> Integer.parseInt(l.split("\\s+")[2])).findFirst().orElse(-1);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Opens the world-traversable path to {@code dir} so nobody can reach a socket inside it. */
    static void openUp(Path dir) throws Exception {
        for (Path p = dir; p != null && p.getNameCount() > 0; p = p.getParent()) {
            if (p.startsWith(Path.of("/tmp")) && !p.equals(Path.of("/tmp"))) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
    }

    /** Sends one line as nobody; returns the answer line, or "CONNECT-FAILED reason". */
    static String send(Path socket, String line, Path scratch) throws Exception {
        Path src = scratch.resolve("Client.java");
        Files.writeString(src, CLIENT);
        openUp(scratch);
        Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("rw-r--r--"));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                java, "-XX:-UsePerfData", "-Xshare:auto", src.toString(), socket.toString(), line))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("client as nobody did not finish");
        }
        return out;
    }
}
