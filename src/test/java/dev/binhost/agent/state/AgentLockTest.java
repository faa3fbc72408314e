package dev.binhost.agent.state;

import dev.binhost.agent.posix.JnrPosix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One agent per state directory (flock locks belong to an open file, so two in one JVM exclude each other too). */
class AgentLockTest {
    @TempDir
    Path state;

    @Test
    void secondLockOnTheSameStateDir_isRefused_namingTheHoldersPid_untilTheFirstIsReleased() {
        AgentLock first = new AgentLock(state, new JnrPosix());
        AgentLock second = new AgentLock(state, new JnrPosix());
        first.acquire();
        try {
            AgentLock.HeldElsewhere e = assertThrows(AgentLock.HeldElsewhere.class, second::acquire);
            assertTrue(e.getMessage().contains("(pid " + ProcessHandle.current().pid() + ")"), e.getMessage());
            assertTrue(e.getMessage().contains(state.toString()), e.getMessage());
            assertFalse(second.held());
        } finally {
            first.release();
        }
        second.acquire();
        assertTrue(second.held());
        second.release();
    }

    @Test
    void aLockFileLeftByACrashedAgent_isTakenOver() throws Exception {
        Files.writeString(new StateDir(state).agentLock(), "999999\n"); // no process holds a flock on it
        AgentLock lock = new AgentLock(state, new JnrPosix());
        lock.acquire();
        assertEquals(ProcessHandle.current().pid() + "", Files.readString(new StateDir(state).agentLock()).strip());
        lock.release();
    }
}
