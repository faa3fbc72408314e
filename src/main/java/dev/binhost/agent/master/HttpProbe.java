package dev.binhost.agent.master;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.time.Duration;

/**
 * An HTTP(S) binhost answers a HEAD request for its URL with a 2xx or 3xx status. Credentials in the URL
 * ({@code https://user:secret@host/...}) are sent as Basic auth and never printed: every message shows
 * {@link #redacted}.
 */
public final class HttpProbe implements Probe {
    private final URI url;
    private final String shown;
    private final Duration connectTimeout;
    private final Duration readTimeout;

    public HttpProbe(URI url, Duration connectTimeout, Duration readTimeout) {
        this.url = url;
        this.shown = redacted(url);
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    /** The URL as it may be shown: a password in it becomes {@code ***}, a user name alone stays. */
    public static String redacted(URI uri) {
        String info = uri.getRawUserInfo();
        if (info == null) {
            return uri.toString();
        }
        int colon = info.indexOf(':');
        String masked = colon < 0 ? info : info.substring(0, colon) + ":***";
        return uri.toString().replace(info + "@", masked + "@");
    }

    /** A URL read from a file, as it may be shown; one that does not parse loses whatever precedes an '@'. */
    public static String scrubbed(String uri) {
        try {
            return redacted(URI.create(uri.strip()));
        } catch (IllegalArgumentException e) {
            return uri.replaceAll("//[^/@]*@", "//***@");
        }
    }

    /** The URL the connection opens: credentials go in a header, not in a URL a library might log. */
    public static URI withoutUserInfo(URI uri) {
        if (uri.getRawUserInfo() == null) {
            return uri;
        }
        return URI.create(uri.toString().replace(uri.getRawUserInfo() + "@", ""));
    }

    /** A library's message may quote the URL: take the credentials out of it too. */
    private String scrub(String message) {
        return scrub(url, message);
    }

    /** {@code message} without {@code url}'s credentials. */
    public static String scrub(URI url, String message) {
        String info = url.getRawUserInfo();
        return info == null ? message : message.replace(url.toString(), redacted(url)).replace(info, "***");
    }

    /** A connection to {@code url}, its credentials (if any) as a Basic auth header, not in the URL. */
    public static HttpURLConnection open(URI url) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) withoutUserInfo(url).toURL().openConnection();
        if (url.getRawUserInfo() != null) {
            String credentials = URLDecoder.decode(url.getRawUserInfo().replace("+", "%2B"), StandardCharsets.UTF_8);
            connection.setRequestProperty("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        return connection;
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
            connection = open(url);
            connection.setRequestMethod("HEAD");
            connection.setInstanceFollowRedirects(false);
            connection.setConnectTimeout((int) Math.max(1, connectTimeout.toMillis()));
            connection.setReadTimeout((int) Math.max(1, readTimeout.toMillis()));
            connection.setUseCaches(false);
            int status = connection.getResponseCode();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (status >= 200 && status < 400) {
                return ProbeResult.ok(name(), took, "HTTP " + status + " from " + shown);
            }
            return ProbeResult.failed(name(), took, "HTTP " + status + " from " + shown);
        } catch (IOException | IllegalArgumentException e) {
            return ProbeResult.failed(name(), Duration.ofNanos(System.nanoTime() - start),
                    "HTTP binhost " + shown + " did not answer: " + scrub(String.valueOf(e.getMessage())));
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
