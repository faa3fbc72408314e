package dev.binhost.agent.posix;

import java.util.function.IntConsumer;

/** A flock(2) held on an open descriptor, released and closed once, by either binding's calls. */
final class FdLock implements Posix.FileLock {
    private final int fd;
    private final boolean acquired;
    private final IntConsumer unlock;
    private final IntConsumer close;
    private boolean closed;

    FdLock(int fd, boolean acquired, IntConsumer unlock, IntConsumer close) {
        this.fd = fd;
        this.acquired = acquired;
        this.unlock = unlock;
        this.close = close;
    }

    @Override
    public boolean acquired() {
        return acquired;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            if (acquired) {
                unlock.accept(fd);
            }
            close.accept(fd);
        }
    }
}
