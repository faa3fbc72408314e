package dev.binhost.agent.master;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.time.Duration;

/** An HTTP(S) binhost answers a HEAD request for its URL with a 2xx or 3xx status. */
public final class HttpProbe implements Probe {
    private final URI url;
    private final Duration connectTimeout;
    private final Duration readTimeout;

    public HttpProbe(URI url, Duration connectTimeout, Duration readTimeout) {
        this.url = url;
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    @Override
    public String name() {
        return "http";
    }

    @Override
    public ProbeResult probe() {
        long start = System.nanoTime();
        HttpURLConnection connection = null;
        try {
            connection = (HttpURLConnection) url.toURL().openConnection();
            connection.setRequestMethod("HEAD");
            connection.setInstanceFollowRedirects(false);
            connection.setConnectTimeout((int) Math.max(1, connectTimeout.toMillis()));
            connection.setReadTimeout((int) Math.max(1, readTimeout.toMillis()));
            connection.setUseCaches(false);
            int status = connection.getResponseCode();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (status >= 200 && status < 400) {
                return ProbeResult.ok(name(), took, "HTTP " + status + " from " + url);
            }
            return ProbeResult.failed(name(), took, "HTTP " + status + " from " + url);
        } catch (IOException | IllegalArgumentException e) {
            return ProbeResult.failed(name(), Duration.ofNanos(System.nanoTime() - start),
                    "HTTP binhost " + url + " did not answer: " + e.getMessage());
        } finally {
            if (connection != null) {
                try (InputStream ignored = connection.getErrorStream()) {
                    // drained and closed so the keep-alive cache holds no half-read response
                } catch (IOException ignored) {
                    // nothing to clean up
                }
                connection.disconnect();
            }
        }
    }
}
