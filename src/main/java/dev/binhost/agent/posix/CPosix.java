package dev.binhost.agent.posix;

import org.graalvm.nativeimage.c.function.CFunction;
import org.graalvm.nativeimage.c.function.CFunction.Transition;
import org.graalvm.nativeimage.c.type.CCharPointer;
import org.graalvm.nativeimage.c.type.CIntPointer;
import org.graalvm.nativeimage.c.type.CTypeConversion;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link Posix} in a native executable: libc called directly through GraalVM's C interface. jnr-posix cannot
 * work there, as jnr-ffi generates and defines its call stubs at run time, which a native image refuses.
 *
 * <p>Every call is short and never blocks (kill, geteuid, open of a local lock file, flock with LOCK_NB, close),
 * so it runs without a thread-state transition; errno is read right after, before any other code can set it.
 * The constants are Linux's (the same on x86-64 and arm64); the agent runs on Linux only.
 */
final class CPosix implements Posix {
    private static final int O_RDWR = 02;
    private static final int O_CREAT = 0100;
    private static final int O_CLOEXEC = 02000000;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int LOCK_UN = 8;
    private static final int ESRCH = 3;
    private static final int EAGAIN = 11; // EWOULDBLOCK is the same number on Linux

    /** Returns the binding typed as the interface, so a JVM never has to load this class to check the caller. */
    static Posix create() {
        return new CPosix();
    }

    private CPosix() {
    }

    /** The libc functions, kept apart from the interface's methods of the same names. */
    static final class LibC {
        private LibC() {
        }

        @CFunction(transition = Transition.NO_TRANSITION)
        static native int kill(int pid, int signal);

        @CFunction(transition = Transition.NO_TRANSITION)
        static native int geteuid();

        @CFunction(transition = Transition.NO_TRANSITION)
        static native int open(CCharPointer path, int flags, int mode);

        @CFunction(transition = Transition.NO_TRANSITION)
        static native int flock(int fd, int operation);

        @CFunction(transition = Transition.NO_TRANSITION)
        static native int close(int fd);

        @CFunction(value = "__errno_location", transition = Transition.NO_TRANSITION)
        static native CIntPointer errnoLocation();

        @CFunction(transition = Transition.NO_TRANSITION)
        static native CCharPointer strerror(int errno);

        static int errno() {
            return errnoLocation().read();
        }

        static String describe(int errno) {
            return CTypeConversion.toJavaString(strerror(errno)) + " (errno " + errno + ")";
        }
    }

    @Override
    public boolean kill(int pid, int signal) {
        if (LibC.kill(pid, signal) == 0) {
            return true;
        }
        return LibC.errno() != ESRCH;
    }

    @Override
    public int geteuid() {
        return LibC.geteuid();
    }

    @Override
    public FileLock tryLock(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        int fd;
        int openErrno;
        try (CTypeConversion.CCharPointerHolder path = CTypeConversion.toCString(file.toString())) {
            fd = LibC.open(path.get(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
            openErrno = fd < 0 ? LibC.errno() : 0;
        }
        if (fd < 0) {
            throw new IOException("cannot open lock file " + file + ": " + LibC.describe(openErrno));
        }
        boolean acquired = LibC.flock(fd, LOCK_EX | LOCK_NB) == 0;
        if (!acquired) {
            int errno = LibC.errno();
            if (errno != EAGAIN) {
                LibC.close(fd);
                throw new IOException("cannot lock " + file + ": " + LibC.describe(errno));
            }
        }
        return new FdLock(fd, acquired, f -> LibC.flock(f, LOCK_UN), LibC::close);
    }
}
