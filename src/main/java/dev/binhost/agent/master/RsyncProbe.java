package dev.binhost.agent.master;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The master's rsync daemon answers with its {@code @RSYNCD: <version>} greeting. An open port that never
 * greets (a wedged daemon, a firewall that accepts) counts as a failure.
 */
public final class RsyncProbe implements Probe {
    private final String host;
    private final int port;
    private final Duration connectTimeout;
    private final Duration readTimeout;

    public RsyncProbe(String host, int port, Duration connectTimeout, Duration readTimeout) {
        this.host = host;
        this.port = port;
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    @Override
    public String name() {
        return "rsync";
    }

    @Override
    public ProbeResult probe() {
        long start = System.nanoTime();
        String phase = "connect";
        try (Socket socket = Sockets.connect(host, port, connectTimeout, readTimeout)) {
            phase = "greeting";
            String line = readLine(socket.getInputStream(), 256, start);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (line == null) {
                return ProbeResult.failed(name(), took, "rsync daemon at " + host + ":" + port + " closed without greeting");
            }
            if (!line.startsWith("@RSYNCD:")) {
                return ProbeResult.failed(name(), took, host + ":" + port + " is not an rsync daemon (said '"
                        + printable(line) + "')");
            }
            try {
                // Say goodbye politely so the daemon does not log a protocol error for every probe.
                socket.getOutputStream().write((line.strip() + "\n").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException ignored) {
                // the greeting already proved the daemon is there
            }
            return ProbeResult.ok(name(), took, line.strip());
        } catch (IOException e) {
            return ProbeResult.failed(name(), Duration.ofNanos(System.nanoTime() - start),
                    Sockets.describe(e, host, port, phase));
        }
    }

    /** Reads one line, bounded in length and in total time (a daemon dribbling bytes must not hold us). */
    private String readLine(InputStream in, int max, long startNanos) throws IOException {
        StringBuilder sb = new StringBuilder();
        long limit = startNanos + connectTimeout.plus(readTimeout).toNanos();
        while (sb.length() < max) {
            if (System.nanoTime() > limit) {
                throw new java.net.SocketTimeoutException("greeting too slow");
            }
            int b = in.read();
            if (b < 0) {
                return sb.isEmpty() ? null : sb.toString();
            }
            if (b == '\n') {
                return sb.toString();
            }
            sb.append((char) b);
        }
        return sb.toString();
    }

    private static String printable(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
