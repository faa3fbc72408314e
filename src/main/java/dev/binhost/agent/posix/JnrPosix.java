package dev.binhost.agent.posix;

import jakarta.enterprise.context.ApplicationScoped;
import jnr.constants.platform.Errno;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.util.DefaultPOSIXHandler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@link Posix} through jnr-posix's native binding. */
@ApplicationScoped
public class JnrPosix implements Posix {
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int LOCK_UN = 8;

    private final POSIX posix = POSIXFactory.getNativePOSIX(new DefaultPOSIXHandler());

    @Override
    public boolean kill(int pid, int signal) {
        if (posix.kill(pid, signal) == 0) {
            return true;
        }
        return posix.errno() != Errno.ESRCH.intValue();
    }

    @Override
    public int geteuid() {
        return posix.geteuid();
    }

    @Override
    public FileLock tryLock(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        int fd = posix.open(file.toString(), jnr.constants.platform.OpenFlags.O_CREAT.intValue()
                | jnr.constants.platform.OpenFlags.O_RDWR.intValue()
                | jnr.constants.platform.OpenFlags.O_CLOEXEC.intValue(), 0600);
        if (fd < 0) {
            throw new IOException("cannot open lock file " + file + ": " + Errno.valueOf(posix.errno()));
        }
        boolean acquired = posix.flock(fd, LOCK_EX | LOCK_NB) == 0;
        if (!acquired) {
            int errno = posix.errno();
            if (errno != Errno.EWOULDBLOCK.intValue() && errno != Errno.EAGAIN.intValue()) {
                posix.close(fd);
                throw new IOException("cannot lock " + file + ": " + Errno.valueOf(errno));
            }
        }
        return new FileLock() {
            private boolean closed;

            @Override
            public boolean acquired() {
                return acquired;
            }

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    if (acquired) {
                        posix.flock(fd, LOCK_UN);
                    }
                    posix.close(fd);
                }
            }
        };
    }
}
