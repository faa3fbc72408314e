package dev.binhost.agent.control;

import dev.binhost.agent.process.DaemonThreads;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** The CLI's side of the control socket: plain JDK, no Quarkus, one request and one answer. */
public final class ControlClient {
    /** Why the agent could not be asked: it is not running, or the caller may not open its socket. */
    public static final class Unreachable extends IOException {
        private final boolean denied;

        Unreachable(String message, boolean denied) {
            super(message);
            this.denied = denied;
        }

        public boolean denied() {
            return denied;
        }
    }

    private final Path socket;
    private final Duration timeout;
    private final ObjectMapper json = ControlProtocol.mapper();

    public ControlClient(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    public ControlProtocol.Response call(String action) throws IOException {
        if (!Files.exists(socket)) {
            throw new Unreachable("the agent is not running (no control socket at " + socket + ")", false);
        }
        // A socket in a directory another user can write may have been replaced by theirs: do not ask it.
        var unsafe = ControlServer.socketProblem(socket, ControlServer.euid());
        if (unsafe.isPresent()) {
            throw new Unreachable("refusing to use the control socket: " + unsafe.get(), false);
        }
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("control-client-timeout"));
        // A wedged agent must not wedge the CLI (or an init script's trigger): close the channel at the deadline.
        timer.schedule(() -> {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing is all we can do.
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        try (channel) {
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
            } catch (SocketException e) {
                String why = String.valueOf(e.getMessage());
                if (why.contains("Permission denied")) {
                    throw new Unreachable("permission denied on " + socket + ": actions need root (try sudo)", true);
                }
                throw new Unreachable("the agent is not running (" + socket + ": " + why + ")", false);
            }
            String user = System.getProperty("user.name", "?");
            byte[] request = (json.writeValueAsString(new ControlProtocol.Request(action, user)) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            channel.write(ByteBuffer.wrap(request));
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (channel.read(buf.clear()) >= 0) {
                answer.write(buf.array(), 0, buf.position());
            }
            if (answer.size() == 0) {
                throw new IOException("the agent closed the control socket without answering");
            }
            // Whatever the server sends reaches a root terminal: escape control characters before anyone prints it.
            return json.readValue(answer.toByteArray(), ControlProtocol.Response.class).printable();
        } catch (java.nio.channels.AsynchronousCloseException e) {
            throw new IOException("the agent did not answer within " + timeout.toSeconds() + " s", e);
        } finally {
            timer.shutdownNow();
        }
    }
}
