package dev.binhost.agent.posix;

import jnr.constants.platform.Errno;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.util.DefaultPOSIXHandler;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link Posix} through jnr-posix's native binding. Building the binding loads jffi's native stub and binds libc's
 * functions: 0.3-0.4 s on this machine's JDK 17 and 25, a third of the agent's start-up if it ran on the start-up
 * path. {@link #warmUp()} starts it on a thread of its own as the process begins (see {@code Main}),
 * so it is ready when the state directory's lock is taken; without the warm-up (tests) the first call builds it.
 */
public class JnrPosix implements Posix {
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int LOCK_UN = 8;

    /**
     * jnr-ffi's switch between call stubs generated with ASM (the default) and reflective proxies. The agent makes a
     * few calls (the locks, its euid, kills of a run's process group), so it takes the proxies: building the
     * binding then costs 0.1 s less CPU, and the agent's start-up 0.13 s less, on this machine. An admin's -D wins.
     */
    static final String ASM_PROPERTY = "jnr.ffi.asm.enabled";

    private static final FutureTask<POSIX> BINDING = new FutureTask<>(() -> {
        if (System.getProperty(ASM_PROPERTY) == null) {
            System.setProperty(ASM_PROPERTY, "false");
        }
        return POSIXFactory.getNativePOSIX(new DefaultPOSIXHandler());
    });

    /** Builds the native binding on a daemon thread now, in parallel with whatever the caller does next. */
    public static void warmUp() {
        Thread t = new Thread(BINDING, "posix-binding");
        t.setDaemon(true);
        t.start();
    }

    private static volatile JnrPosix shared;

    /** One binding for the process (each instance shares the same native stubs anyway). */
    static JnrPosix shared() {
        JnrPosix s = shared;
        if (s == null) {
            synchronized (JnrPosix.class) {
                if (shared == null) {
                    shared = new JnrPosix();
                }
                s = shared;
            }
        }
        return s;
    }

    private final POSIX posix = binding();

    private static POSIX binding() {
        BINDING.run(); // no-op when the warm-up thread ran or is running it; otherwise builds it here
        try {
            return BINDING.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading the native POSIX binding", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot load the native POSIX binding (jnr-posix): " + e.getCause(),
                    e.getCause());
        }
    }

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
        return new FdLock(fd, acquired, f -> posix.flock(f, LOCK_UN), posix::close);
    }
}
