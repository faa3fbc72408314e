package dev.binhost.agent.master;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The master's NFS server answers. In {@code RPC} mode it sends an ONC RPC NULL call (RFC 5531) for the NFS
 * program over TCP and expects an accepted, successful reply, which is what {@code rpcinfo -T tcp ... 100003 4}
 * does; in {@code TCP} mode it only checks that the port accepts.
 */
public final class NfsProbe implements Probe {
    static final int NFS_PROGRAM = 100003;
    private static final int CALL = 0;
    private static final int REPLY = 1;
    private static final int MSG_ACCEPTED = 0;
    private static final int SUCCESS = 0;
    private static final String[] ACCEPT_STAT = {"SUCCESS", "PROG_UNAVAIL", "PROG_MISMATCH", "PROC_UNAVAIL",
            "GARBAGE_ARGS", "SYSTEM_ERR"};

    private final String host;
    private final int port;
    private final int version;
    private final boolean rpc;
    private final Duration connectTimeout;
    private final Duration readTimeout;

    public NfsProbe(String host, int port, int version, boolean rpc, Duration connectTimeout, Duration readTimeout) {
        this.host = host;
        this.port = port;
        this.version = version;
        this.rpc = rpc;
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    @Override
    public String name() {
        return "nfs";
    }

    @Override
    public ProbeResult probe() {
        long start = System.nanoTime();
        String phase = "connect";
        try (Socket socket = Sockets.connect(host, port, connectTimeout, readTimeout)) {
            if (!rpc) {
                return ProbeResult.ok(name(), since(start), "port " + port + " accepts");
            }
            phase = "RPC NULL call";
            int xid = ThreadLocalRandom.current().nextInt();
            socket.getOutputStream().write(nullCall(xid, version));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            String problem = checkReply(in, xid);
            return problem == null
                    ? ProbeResult.ok(name(), since(start), "NFSv" + version + " answers RPC NULL")
                    : ProbeResult.failed(name(), since(start), "NFS server at " + host + ":" + port + " " + problem);
        } catch (EOFException e) {
            return ProbeResult.failed(name(), since(start), host + ":" + port + " closed the connection during the "
                    + phase);
        } catch (IOException e) {
            return ProbeResult.failed(name(), since(start), Sockets.describe(e, host, port, phase));
        }
    }

    /** The request bytes: record mark, then the call header with AUTH_NONE credentials and verifier. */
    static byte[] nullCall(int xid, int version) {
        ByteBuffer body = ByteBuffer.allocate(40);
        body.putInt(xid).putInt(CALL).putInt(2).putInt(NFS_PROGRAM).putInt(version).putInt(0);
        body.putInt(0).putInt(0); // credentials: AUTH_NONE, length 0
        body.putInt(0).putInt(0); // verifier: AUTH_NONE, length 0
        ByteBuffer record = ByteBuffer.allocate(44);
        record.putInt(0x80000000 | body.capacity()).put(body.array());
        return record.array();
    }

    /** Null when the reply accepts the call; otherwise what was wrong with it. */
    static String checkReply(DataInputStream in, int xid) throws IOException {
        int mark = in.readInt();
        int length = mark & 0x7fffffff;
        if (length < 24 || length > 1 << 16) {
            return "sent an RPC record of implausible length " + length;
        }
        byte[] body = new byte[length];
        in.readFully(body);
        ByteBuffer reply = ByteBuffer.wrap(body);
        if (reply.getInt() != xid) {
            return "answered with another transaction id";
        }
        if (reply.getInt() != REPLY) {
            return "did not send an RPC reply";
        }
        if (reply.getInt() != MSG_ACCEPTED) {
            return "denied the RPC call";
        }
        reply.getInt(); // verifier flavour
        int verifierLength = reply.getInt();
        if (verifierLength < 0 || verifierLength > reply.remaining() - 4) {
            return "sent a malformed verifier";
        }
        reply.position(reply.position() + ((verifierLength + 3) & ~3));
        int status = reply.getInt();
        if (status != SUCCESS) {
            String name = status >= 0 && status < ACCEPT_STAT.length ? ACCEPT_STAT[status] : "status " + status;
            return "rejected the NFS NULL call: " + name;
        }
        return null;
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
