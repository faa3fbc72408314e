package dev.binhost.agent.state;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.posix.Posix;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One agent per state directory: an exclusive flock on {@code <state-dir>/agent.lock}, held for the life of the
 * process and taken by {@code ConfigCheck} right after the configuration passed, before the scheduler resumes
 * and before any component writes state; released after every other shutdown observer. Two agents on one
 * state directory would interleave pulls and runs (seen: a live tree that matched neither master set).
 */
@ApplicationScoped
public class AgentLock {
    private final Path stateDir;
    private final Posix posix;
    private Posix.FileLock held;

    @Inject
    public AgentLock(AgentConfig agent, Posix posix) {
        this(agent.stateDir(), posix);
    }

    public AgentLock(Path stateDir, Posix posix) {
        this.stateDir = stateDir;
        this.posix = posix;
    }

    /** Thrown when another process holds the lock; the message names it. */
    public static final class HeldElsewhere extends RuntimeException {
        public HeldElsewhere(String message) {
            super(message);
        }
    }

    /** Takes the lock or throws {@link HeldElsewhere}; records this process's pid in the lock file. */
    public synchronized void acquire() {
        if (held != null) {
            return;
        }
        Path file = new StateDir(stateDir).agentLock();
        try {
            Files.createDirectories(stateDir);
            Posix.FileLock lock = posix.tryLock(file);
            if (!lock.acquired()) {
                lock.close();
                throw new HeldElsewhere("another binhost-agent" + holder(file).map(p -> " (pid " + p + ")").orElse("")
                        + " already runs on the state directory " + stateDir + " (lock " + file + ")");
            }
            // Written in place under the lock: only the holder writes it, and a reader only needs the pid.
            Files.writeString(file, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
            held = lock;
        } catch (IOException e) {
            throw new IllegalStateException("cannot lock the state directory " + stateDir + ": " + e.getMessage(), e);
        }
        Log.debugf("State directory %s locked (%s)", stateDir, file);
    }

    /** The pid the holder wrote, when it could be read. */
    static Optional<Long> holder(Path file) {
        try {
            return Optional.of(Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).strip()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public synchronized boolean held() {
        return held != null;
    }

    void onStop(@Observes @Priority(100_000) ShutdownEvent event) {
        release();
    }

    public synchronized void release() {
        if (held != null) {
            held.close();
            held = null;
        }
    }
}
