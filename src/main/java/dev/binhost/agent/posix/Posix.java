package dev.binhost.agent.posix;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The few system calls the JDK does not offer. Kept narrow so a native build can swap the binding.
 */
public interface Posix {
    int SIGTERM = 15;
    int SIGKILL = 9;

    /**
     * True in a native executable. Quarkus initialises this class in the image builder, so the value is a
     * constant there and the jnr-posix branch of {@link #system()} is not compiled into the image at all.
     */
    boolean NATIVE = io.quarkus.bootstrap.graal.ImageInfo.inImageBuildtimeCode()
            || io.quarkus.bootstrap.graal.ImageInfo.inImageRuntimeCode();

    /** This process's binding: libc through GraalVM's C interface in a native executable, jnr-posix on a JVM. */
    static Posix system() {
        return NATIVE ? CPosix.create() : JnrPosix.shared();
    }

    /** Starts building the JVM's binding in the background (see {@link JnrPosix#warmUp()}); nothing when native. */
    static void warmUp() {
        if (!NATIVE) {
            JnrPosix.warmUp();
        }
    }

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
