package dev.binhost.agent.control;

import dev.binhost.agent.process.DaemonThreads;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.quarkus.logging.Log;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Listens on a Unix domain socket and answers one request per connection. Who may do what is decided from
 * the kernel's account of the peer (SO_PEERCRED), never from anything the client says.
 */
public final class ControlServer implements AutoCloseable {
    /** A client that sends nothing for this long is dropped, so a stuck client cannot hold a thread. */
    static final Duration READ_DEADLINE = Duration.ofSeconds(5);
    /** Unprivileged peers only read status: a short deadline frees their threads soon. */
    static final Duration UNPRIVILEGED_READ_DEADLINE = Duration.ofSeconds(1);
    /** Open connections one unprivileged uid may hold; more are closed at once, so a flood cannot queue. */
    static final int PER_UID_LIMIT = 2;

    /** Answers a request from a peer whose uid the kernel vouched for. */
    public interface Handler {
        ControlProtocol.Response handle(ControlProtocol.Request request, Peer peer);
    }

    /** The connecting process: its user, and whether it may act (root, or the agent's own user). */
    public record Peer(String user, boolean privileged) {
    }

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final Path socket;
    private final Handler handler;
    private final Set<UserPrincipal> privileged;
    private final ServerSocketChannel server;
    private final ExecutorService workers;
    /** Root's (and the agent user's) requests have their own threads, never queued behind other users'. */
    private final ExecutorService privilegedWorkers;
    private final Map<String, Integer> openPerUid = new HashMap<>();
    private final AtomicLong limited = new AtomicLong();
    private final ScheduledExecutorService watchdog;
    private final Thread acceptor;
    private final Object socketKey;

    private ControlServer(Path socket, Handler handler, Set<UserPrincipal> privileged, ServerSocketChannel server)
            throws IOException {
        this.socket = socket;
        this.socketKey = Files.readAttributes(socket, BasicFileAttributes.class).fileKey();
        this.handler = handler;
        this.privileged = privileged;
        this.server = server;
        this.workers = Executors.newFixedThreadPool(4, DaemonThreads.named("control-conn"));
        this.privilegedWorkers = Executors.newCachedThreadPool(DaemonThreads.named("control-root"));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("control-deadline"));
        this.acceptor = DaemonThreads.named("control-accept").newThread(this::acceptLoop);
        this.acceptor.start();
    }

    /**
     * Binds the socket with the given mode and starts answering. The socket is bound inside a private 0700
     * directory, given its mode, then renamed into place, so it is never reachable with looser permissions.
     *
     * @param agentUid the agent's own uid: that user may act as well as root (a demo run by a normal user)
     */
    public static ControlServer start(Path socket, int mode, int agentUid, Handler handler) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        Optional<String> unsafe = socketProblem(socket, agentUid);
        if (unsafe.isPresent()) {
            throw new IOException(unsafe.get());
        }
        refuseIfAnotherAgentListens(socket);
        // Only a socket is ever unlinked here (socketProblem refused anything else).
        Files.deleteIfExists(socket);
        Path staging = Files.createTempDirectory(dir, ".control-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            Path bound = staging.resolve("s");
            channel.bind(UnixDomainSocketAddress.of(bound), 16);
            Files.setPosixFilePermissions(bound, permissions(mode));
            Files.move(bound, socket, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        } finally {
            Files.deleteIfExists(staging.resolve("s"));
            Files.deleteIfExists(staging);
        }
        var lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        Set<UserPrincipal> privileged = Set.of(lookup.lookupPrincipalByName("0"));
        if (agentUid != 0) {
            privileged = Set.of(lookup.lookupPrincipalByName("0"), lookup.lookupPrincipalByName(Integer.toString(agentUid)));
        }
        return new ControlServer(socket, handler, privileged, channel);
    }

    /** A live socket means a second agent: two agents would run two emerges, so start-up stops here. */
    private static void refuseIfAnotherAgentListens(Path socket) throws IOException {
        if (!Files.exists(socket)) {
            return;
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            throw new IOException("another agent is already listening on " + socket
                    + "; stop it first (rc-service binhost-agent stop)");
        } catch (java.net.SocketException stale) {
            // Nobody answers: a leftover from an agent that died; replacing it is safe.
        }
    }

    public Path socket() {
        return socket;
    }

    /**
     * Why the socket's place is unsafe, for the server before it binds and the CLI before it connects: the
     * directory must be a real directory owned by root or {@code uid} and writable by nobody else (else another
     * user could swap the socket and forge answers), and the path must hold a socket or nothing.
     */
    public static Optional<String> socketProblem(Path socket, int uid) {
        Path dir = socket.toAbsolutePath().getParent();
        try {
            if (Files.isSymbolicLink(dir)) {
                return Optional.of("the socket's directory " + dir + " is a symlink; give the real directory");
            }
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    return Optional.of(dir + " is not a directory");
                }
                int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if (owner != 0 && owner != uid) {
                    return Optional.of("the socket's directory " + dir + " is owned by uid " + owner
                            + ", not root; another user could replace the socket");
                }
                if ((mode & 022) != 0) {
                    return Optional.of("the socket's directory " + dir + " has mode "
                            + String.format("%04o", mode & 07777) + ", writable by group or others; use 0755");
                }
            }
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if ((mode & S_IFMT) != S_IFSOCK) {
                    return Optional.of(socket + " exists and is not a socket; the agent replaces only its own"
                            + " socket, remove it or choose another path");
                }
            }
        } catch (IOException | UnsupportedOperationException | ClassCastException e) {
            return Optional.of("cannot inspect " + socket + ": " + e.getMessage());
        }
        return Optional.empty();
    }

    /** This process's effective uid, from the owner of /proc/self; -1 when unknown. */
    public static int euid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    /** Connections closed at once because their uid already held {@link #PER_UID_LIMIT}. */
    public long limitedConnections() {
        return limited.get();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel conn;
            try {
                conn = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                Log.warnf("control socket accept failed: %s", e.getMessage());
                continue;
            }
            try {
                dispatch(conn);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                closeQuietly(conn);
                return;
            }
        }
    }

    /**
     * Privileged peers get their own thread at once; other users share a small pool, at most
     * {@link #PER_UID_LIMIT} connections per uid, so idle connections from users cannot delay root's trigger.
     */
    private void dispatch(SocketChannel conn) {
        UnixDomainPrincipal who;
        try {
            who = conn.getOption(ExtendedSocketOptions.SO_PEERCRED);
        } catch (IOException e) {
            closeQuietly(conn);
            return;
        }
        Peer peer = new Peer(who.user().getName(), privileged.contains(who.user()));
        if (peer.privileged()) {
            privilegedWorkers.execute(() -> serve(conn, peer, READ_DEADLINE));
            return;
        }
        String uid = peer.user();
        synchronized (openPerUid) {
            if (openPerUid.getOrDefault(uid, 0) >= PER_UID_LIMIT) {
                limited.incrementAndGet();
                closeQuietly(conn);
                return;
            }
            openPerUid.merge(uid, 1, Integer::sum);
        }
        try {
            workers.execute(() -> {
                try {
                    serve(conn, peer, UNPRIVILEGED_READ_DEADLINE);
                } finally {
                    release(uid);
                }
            });
        } catch (RuntimeException e) {
            release(uid);
            throw e;
        }
    }

    private void release(String uid) {
        synchronized (openPerUid) {
            openPerUid.computeIfPresent(uid, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    private void serve(SocketChannel conn, Peer peer, Duration readDeadline) {
        ScheduledFuture<?> deadline = watchdog.schedule(() -> closeQuietly(conn), readDeadline.toMillis(),
                TimeUnit.MILLISECONDS);
        try (conn) {
            ControlProtocol.Response response;
            String line = readLine(conn);
            // The deadline bounds what the client controls (sending its request, taking the answer), not the
            // action: a config pull answers when done, bounded by the sync's own deadlines.
            deadline.cancel(false);
            if (line == null) {
                response = ControlProtocol.Response.failed(null, "bad-request",
                        "expected one JSON line of at most " + ControlProtocol.MAX_REQUEST + " bytes");
            } else {
                response = answer(line, peer);
            }
            deadline = watchdog.schedule(() -> closeQuietly(conn), readDeadline.toMillis(), TimeUnit.MILLISECONDS);
            conn.write(ByteBuffer.wrap((ControlProtocol.shared().writeValueAsString(response) + "\n").getBytes(StandardCharsets.UTF_8)));
            // Closing with unread input would reset the connection before the client reads the answer (an
            // oversized request): finish our side, then swallow a bounded rest, still under the deadline.
            conn.shutdownOutput();
            ByteBuffer sink = ByteBuffer.allocate(4096);
            for (int drained = 0; drained < 16 * ControlProtocol.MAX_REQUEST; drained += sink.position()) {
                if (conn.read(sink.clear()) < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            Log.debugf("control connection ended: %s", e.getMessage());
        } finally {
            deadline.cancel(false);
        }
    }

    private ControlProtocol.Response answer(String line, Peer peer) {
        ControlProtocol.Request request;
        try {
            request = ControlProtocol.shared().readValue(line, ControlProtocol.Request.class);
        } catch (JsonProcessingException e) {
            return ControlProtocol.Response.failed(null, "bad-request",
                    "not a JSON request such as {\"action\":\"status\"}: " + e.getOriginalMessage());
        }
        if (request == null || request.action() == null || request.action().isBlank()) {
            return ControlProtocol.Response.failed(null, "bad-request", "the request names no action");
        }
        try {
            return handler.handle(request, peer);
        } catch (RuntimeException e) {
            Log.errorf(e, "control action %s failed", request.action());
            return ControlProtocol.Response.failed(request.action(), "unavailable",
                    request.action() + " failed in the agent: " + e);
        }
    }

    /** Reads up to the first newline (or end of stream); null when the request is empty or too long. */
    private static String readLine(SocketChannel conn) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(512);
        while (line.size() <= ControlProtocol.MAX_REQUEST) {
            buf.clear();
            int n = conn.read(buf);
            if (n < 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                byte b = buf.get(i);
                if (b == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(b);
            }
        }
        return line.size() == 0 || line.size() > ControlProtocol.MAX_REQUEST ? null
                : line.toString(StandardCharsets.UTF_8);
    }

    /** Octal text ("0600", "660") to a mode, or -1 when it is not one. */
    public static int parseMode(String text) {
        if (text == null || !text.matches("0?[0-7]{3}")) {
            return -1;
        }
        return Integer.parseInt(text, 8);
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
                PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE};
        for (int i = 0; i < 9; i++) {
            if ((mode & (1 << (8 - i))) != 0) {
                perms.add(order[i]);
            }
        }
        return perms;
    }

    /** Stops accepting and removes the socket (only if it is still ours: a newer agent may have replaced it). */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            Log.debugf("closing control socket: %s", e.getMessage());
        }
        // the listening socket is released for good once the acceptor has left accept(): until then a new
        // agent's start-up check could still connect and take this one for a live agent (seen under load)
        if (Thread.currentThread() != acceptor) {
            try {
                acceptor.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        workers.shutdownNow();
        privilegedWorkers.shutdownNow();
        watchdog.shutdownNow();
        try {
            if (Files.exists(socket) && java.util.Objects.equals(socketKey,
                    Files.readAttributes(socket, BasicFileAttributes.class).fileKey())) {
                Files.delete(socket);
            }
        } catch (IOException e) {
            Log.warnf("could not remove %s: %s", socket, e.getMessage());
        }
    }

    private static void closeQuietly(SocketChannel conn) {
        try {
            conn.close();
        } catch (IOException ignored) {
            // Already gone; nothing to release.
        }
    }
}
