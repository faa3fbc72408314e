package dev.binhost.agent.mount;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.posix.Posix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real mounts, in a private mount namespace: each scenario of {@link MountScenarios} runs in a child JVM under
 * {@code unshare -m --propagation private}, so nothing it mounts is ever visible on the host. The assertions are
 * in the scenarios; this class checks the child passed and removes, by PID, anything the child left running.
 */
class MountNamespaceTest {
    private static final ProcessRunner RUNNER = new ProcessRunner(new JnrPosix(), Duration.ofSeconds(2), 256 * 1024);
    private Path dir;

    @BeforeAll
    static void needsRootAndNamespaces() throws Exception {
        Assumptions.assumeTrue(new JnrPosix().geteuid() == 0, "mount tests need root (CI runs as root)");
        CommandResult r = RUNNER.run(Command.of("unshare-check", "unshare", "-m", "--propagation", "private", "true")
                .deadline(Duration.ofSeconds(10)).build());
        Assumptions.assumeTrue(r.succeeded(), "cannot create a mount namespace here: " + r.outputTail());
    }

    @BeforeEach
    void makeDir() throws Exception {
        dir = Files.createTempDirectory("binhost-mount-test-");
    }

    @AfterEach
    void cleanUp() throws Exception {
        // The child's namespace dies with its last process; a FUSE daemon it left would keep it alive.
        for (ProcessHandle p : leftovers(dir)) {
            System.out.println("killing leftover pid " + p.pid() + ": " + p.info().commandLine().orElse("?"));
            new JnrPosix().kill((int) p.pid(), 18);
            new JnrPosix().kill((int) p.pid(), Posix.SIGKILL);
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Processes whose command line names this test's directory (bindfs daemons, holders). */
    static List<ProcessHandle> leftovers(Path dir) {
        List<ProcessHandle> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            try {
                String cmdline = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
                if (cmdline.contains(dir.toString()) && p.pid() != ProcessHandle.current().pid()) {
                    found.add(p);
                }
            } catch (Exception e) {
                // gone already
            }
        });
        return found;
    }

    private void inNamespace(String scenario) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        CommandResult r = RUNNER.run(Command.of("scenario-" + scenario, "unshare", "-m", "--propagation", "private",
                java, "-cp", System.getProperty("java.class.path"),
                "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
                InNamespace.class.getName(), scenario, dir.toString(),
                Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString())
                .deadline(Duration.ofMinutes(2)).build());
        System.out.println(r.outputTail());
        assertTrue(r.succeeded() && r.outputTail().contains("SCENARIO PASSED: " + scenario),
                scenario + " failed in its namespace (" + r.summary() + "):\n" + r.outputTail());
    }

    @Test
    void masterComesUp_mountsBindAndFstabMounts_andAfterRestartStillKnowsThemAsItsOwn() throws Exception {
        inNamespace("masterComesUpMountsAndRestartKeepsOwnership");
    }

    @Test
    void masterUpAtStart_firstTickMountsWithoutATransition() throws Exception {
        inNamespace("masterUpAtStartMountsOnFirstTick");
    }

    @Test
    void frozenFuseServer_probeTimesOut_readinessDown_livenessUp_releasedLazily_remountedAfterThaw()
            throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/bindfs")),
                "bindfs is not installed (apt-get install bindfs)");
        inNamespace("frozenFuseServerGoesStaleAndComesBack");
    }

    @Test
    void fuseServerThatMissesOneProbeDeadline_isProbedAgainAtOnce_andStaysMounted() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/bindfs")),
                "bindfs is not installed (CI installs it)");
        inNamespace("serverThatMissesOneDeadlineStaysMounted");
    }

    @Test
    void masterDown_mountHeldBusy_isReleasedLazily_holderKeepsRunning() throws Exception {
        inNamespace("busyMountIsReleasedLazily");
    }

    @Test
    void masterDown_whileEmergeRuns_releaseWaitsUntilItEnds() throws Exception {
        inNamespace("releaseWaitsForEmerge");
    }

    @Test
    void missingMountPoint_givesAClearError() throws Exception {
        inNamespace("missingMountPointIsAnError");
    }

    @Test
    void occupiedMountPoint_givesAClearError_andNothingForeignIsUnmounted() throws Exception {
        inNamespace("occupiedMountPointIsAnErrorAndForeignMountsStay");
    }
}
