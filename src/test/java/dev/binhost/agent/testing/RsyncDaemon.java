package dev.binhost.agent.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A real rsync daemon on loopback serving one directory as a module; stopped by its own PID. */
public final class RsyncDaemon implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path dir;

    private RsyncDaemon(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    public static RsyncDaemon serve(Path workDir, String module, Path tree) throws IOException, InterruptedException {
        int port = freePort();
        Files.createDirectories(workDir);
        Path conf = workDir.resolve("rsyncd.conf");
        Files.writeString(conf, """
                use chroot = no
                read only = yes
                log file = %s
                [%s]
                    path = %s
                """.formatted(workDir.resolve("rsyncd.log"), module, tree));
        Process p = new ProcessBuilder("rsync", "--daemon", "--no-detach", "--config=" + conf, "--port=" + port,
                "--address=127.0.0.1").redirectErrorStream(true)
                .redirectOutput(workDir.resolve("rsyncd.out").toFile()).start();
        RsyncDaemon daemon = new RsyncDaemon(p, port, workDir);
        daemon.awaitListening();
        return daemon;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void awaitListening() throws IOException, InterruptedException {
        for (int i = 0; i < 100; i++) {
            if (!process.isAlive()) {
                throw new IOException("rsync daemon exited: " + Files.readString(dir.resolve("rsyncd.out")));
            }
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IOException("rsync daemon did not listen on " + port);
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
