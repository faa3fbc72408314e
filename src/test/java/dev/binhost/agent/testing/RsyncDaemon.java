package dev.binhost.agent.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A real rsync daemon for tests: one module per entry, on a free port, stopped by its own PID. */
public final class RsyncDaemon implements AutoCloseable {
    public final String address;
    public final int port;
    private final Process process;

    private RsyncDaemon(String address, int port, Process process) {
        this.address = address;
        this.port = port;
        this.process = process;
    }

    /** Serves one directory as {@code module} on loopback. */
    public static RsyncDaemon serve(Path workDir, String module, Path tree) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        return start(workDir, Map.of(module, tree));
    }

    /** Starts on loopback. */
    public static RsyncDaemon start(Path workDir, Map<String, Path> modules, String... extraArgs) throws IOException,
            InterruptedException {
        return start(workDir, modules, List.of(), "127.0.0.1", freePort(), extraArgs);
    }

    /** Starts with {@code prefix} in front of rsync (e.g. {@code ip netns exec NS}) on the given address. */
    public static RsyncDaemon start(Path workDir, Map<String, Path> modules, List<String> prefix, String address, int port,
            String... extraArgs) throws IOException, InterruptedException {
        StringBuilder conf = new StringBuilder("use chroot = no\nread only = yes\nnumeric ids = yes\n");
        conf.append("pid file = ").append(workDir.resolve("rsyncd-" + port + ".pid")).append('\n');
        modules.forEach((name, path) -> conf.append('[').append(name).append("]\n    path = ").append(path)
                .append("\n    uid = 0\n    gid = 0\n"));
        Path file = workDir.resolve("rsyncd-" + port + ".conf");
        Files.writeString(file, conf);
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("rsync", "--daemon", "--no-detach", "--config=" + file, "--port=" + port,
                "--address=" + address));
        argv.addAll(List.of(extraArgs));
        Process process = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(workDir.resolve("rsyncd-" + port + ".log").toFile()).start();
        RsyncDaemon daemon = new RsyncDaemon(address, port, process);
        if (prefix.isEmpty()) {
            daemon.awaitListening();
        }
        return daemon;
    }

    public void awaitListening() throws InterruptedException, IOException {
        long until = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < until) {
            if (!process.isAlive()) {
                throw new IOException("rsync daemon exited " + process.exitValue());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(address, port), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(20);
            }
        }
        throw new IOException("rsync daemon did not listen on " + address + ":" + port);
    }

    public long pid() {
        return process.pid();
    }

    /** PIDs of the daemon's per-connection children (the processes that send files). */
    public List<Long> children() {
        return process.descendants().map(ProcessHandle::pid).toList();
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor();
    }
}
