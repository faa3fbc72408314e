package dev.binhost.agent.posix;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The few system calls the JDK does not offer. Kept narrow so a native build can swap the binding.
 */
public interface Posix {
    int SIGTERM = 15;
    int SIGKILL = 9;

    /** kill(2); a negative pid names a process group. Returns false when no such process exists (ESRCH). */
    boolean kill(int pid, int signal);

    /** Effective user id of this process. */
    int geteuid();

    /** Takes an exclusive, non-blocking flock(2) on the file; the lock lives as long as the returned handle. */
    FileLock tryLock(Path file) throws IOException;

    /** A held flock; closing it releases the lock. */
    interface FileLock extends AutoCloseable {
        /** True when this process holds the lock; false when another process did. */
        boolean acquired();

        @Override
        void close();
    }
}
