package dev.binhost.agent.binhost;

import dev.binhost.agent.master.HttpProbe;
import dev.binhost.agent.master.Probe;
import dev.binhost.agent.master.ProbeResult;
import dev.binhost.agent.portage.BinpkgIndex;
import dev.binhost.agent.state.DurableFile;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * An HTTP binhost is UP when its index ({@code Packages.gz}, else {@code Packages}, as Portage reads it) answers
 * and can be used: a GET (conditional on the last
 * good copy's Last-Modified, so an unchanged index costs a 304), read up to a cap, checked as strictly as
 * {@link BinpkgIndex} checks a PKGDIR's index (a file cut short, garbage or a header without a TIMESTAMP is
 * refused), and kept in the state directory, where the reasons for local builds read it. A bad index never
 * replaces the last good copy.
 */
public final class BinhostIndexProbe implements Probe {
    /** What the last good index said, when it was fetched, and from where (Packages.gz or Packages). */
    public record Seen(long timestamp, int packages, Instant checkedAt, String lastModified, URI source) {
        /** The index's TIMESTAMP (when the master last wrote it). */
        public Instant written() {
            return Instant.ofEpochSecond(timestamp);
        }
    }

    private final URI index;
    private final Path copy;
    private final long maxBytes;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final Clock clock;
    private volatile Seen seen;

    public BinhostIndexProbe(URI index, Path copy, long maxBytes, Duration connectTimeout, Duration readTimeout,
            Clock clock) {
        this.index = index;
        this.copy = copy;
        this.maxBytes = maxBytes;
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "binhost";
    }

    /** The last good index, if any was fetched since start. */
    public Optional<Seen> seen() {
        return Optional.ofNullable(seen);
    }

    /** Where the last good copy is kept. */
    public Path copy() {
        return copy;
    }

    /**
     * Reads the index as Portage does: {@code Packages.gz} first, {@code Packages} only when that is not there
     * (HTTP 404); any other failure of {@code Packages.gz} is the binhost's (Portage too stops there). A master with
     * {@code FEATURES=compress-index} serves both, and Portage reads only the compressed one.
     */
    @Override
    public ProbeResult probe() {
        long start = System.nanoTime();
        Optional<ProbeResult> gz = fetch(gzIndex(), true, start);
        return gz.isPresent() ? gz.get() : fetch(index, false, start).orElseThrow();
    }

    private URI gzIndex() {
        return URI.create(index.toString() + ".gz");
    }

    /** One GET; empty when {@code gz} and the file is not there (HTTP 404). */
    private Optional<ProbeResult> fetch(URI url, boolean gz, long start) {
        String shown = HttpProbe.redacted(url);
        HttpURLConnection connection = null;
        try {
            connection = HttpProbe.open(url);
            connection.setInstanceFollowRedirects(true);
            connection.setConnectTimeout((int) Math.max(1, connectTimeout.toMillis()));
            connection.setReadTimeout((int) Math.max(1, readTimeout.toMillis()));
            connection.setUseCaches(false);
            Seen last = seen;
            if (last != null && last.lastModified() != null && url.equals(last.source())) {
                connection.setRequestProperty("If-Modified-Since", last.lastModified());
            }
            int status = connection.getResponseCode();
            if (status == HttpURLConnection.HTTP_NOT_MODIFIED && last != null && url.equals(last.source())) {
                seen = new Seen(last.timestamp(), last.packages(), clock.instant(), last.lastModified(), url);
                return Optional.of(ProbeResult.ok(name(), took(start), "index unchanged (HTTP 304): "
                        + describe(seen)));
            }
            if (gz && status == HttpURLConnection.HTTP_NOT_FOUND) {
                return Optional.empty();
            }
            if (status != HttpURLConnection.HTTP_OK) {
                return Optional.of(ProbeResult.failed(name(), took(start), "HTTP " + status + " from " + shown));
            }
            long announced = connection.getContentLengthLong();
            if (announced > maxBytes) {
                return Optional.of(ProbeResult.failed(name(), took(start), shown + ": " + announced
                        + " bytes, more than binhost.packages.index-max-bytes=" + maxBytes));
            }
            byte[] bytes;
            try (InputStream in = connection.getInputStream()) {
                bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            }
            if (bytes.length > maxBytes) {
                return Optional.of(ProbeResult.failed(name(), took(start), shown
                        + ": more than binhost.packages.index-max-bytes=" + maxBytes + " bytes"));
            }
            if (announced >= 0 && bytes.length != announced) {
                return Optional.of(ProbeResult.failed(name(), took(start), shown + ": cut short: " + bytes.length
                        + " of the " + announced + " bytes announced"));
            }
            if (gz) {
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                    bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
                } catch (IOException e) {
                    return Optional.of(ProbeResult.failed(name(), took(start), "unusable index: " + shown
                            + ": not a whole gzip file (" + e.getMessage() + ")"));
                }
                if (bytes.length > maxBytes) {
                    return Optional.of(ProbeResult.failed(name(), took(start), shown
                            + ": more than binhost.packages.index-max-bytes=" + maxBytes + " bytes uncompressed"));
                }
            }
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                return Optional.of(ProbeResult.failed(name(), took(start), shown
                        + ": not a Packages index (not UTF-8 text)"));
            }
            BinpkgIndex parsed;
            try {
                parsed = BinpkgIndex.parse(shown, text);
            } catch (BinpkgIndex.Unreadable e) {
                return Optional.of(ProbeResult.failed(name(), took(start), "unusable index: " + e.getMessage()));
            }
            long timestamp;
            try {
                timestamp = Long.parseLong(parsed.header().getOrDefault("TIMESTAMP", "").strip());
            } catch (NumberFormatException e) {
                return Optional.of(ProbeResult.failed(name(), took(start), "unusable index: " + shown
                        + ": its header has no TIMESTAMP (seconds since 1970), so it is not Portage's Packages"));
            }
            DurableFile.replace(copy, bytes);
            seen = new Seen(timestamp, parsed.entries().size(), clock.instant(),
                    connection.getHeaderField("Last-Modified"), url);
            return Optional.of(ProbeResult.ok(name(), took(start), describe(seen)));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.of(ProbeResult.failed(name(), took(start), "binhost " + shown + " did not answer: "
                    + HttpProbe.scrub(url, String.valueOf(e.getMessage()))));
        } finally {
            if (connection != null) {
                connection.disconnect();
            }
        }
    }

    private String describe(Seen s) {
        return s.packages() + " packages, written " + s.written() + " ("
                + dev.binhost.agent.config.Durations.human(Duration.between(s.written(), clock.instant()).abs())
                + (s.written().isAfter(clock.instant()) ? " ahead of this clock)" : " ago)");
    }

    private static Duration took(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
