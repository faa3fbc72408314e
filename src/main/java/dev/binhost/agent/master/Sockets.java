package dev.binhost.agent.master;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;

/** Connects with a connect timeout and arms the read timeout, and names failures the way an admin reads them. */
final class Sockets {
    private Sockets() {
    }

    static Socket connect(String host, int port, Duration connectTimeout, Duration readTimeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), (int) Math.max(1, connectTimeout.toMillis()));
            socket.setSoTimeout((int) Math.max(1, readTimeout.toMillis()));
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    static String describe(IOException e, String host, int port, String phase) {
        String where = host + ":" + port;
        if (e instanceof UnknownHostException) {
            return "cannot resolve " + host;
        }
        if (e instanceof ConnectException) {
            return "connection refused by " + where + " (" + e.getMessage() + ")";
        }
        if (e instanceof NoRouteToHostException) {
            return "no route to " + where;
        }
        if (e instanceof SocketTimeoutException) {
            return phase + " timed out at " + where;
        }
        return phase + " failed at " + where + ": " + e;
    }
}
