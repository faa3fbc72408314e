package dev.binhost.agent.mount;

import dev.binhost.agent.health.Heartbeats;
import dev.binhost.agent.master.MasterState;
import dev.binhost.agent.master.MasterTransition;
import dev.binhost.agent.mount.MountConfig.DownPolicy;
import dev.binhost.agent.mount.MountStatus.Phase;
import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.portage.EmergeActivity;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.eclipse.microprofile.health.HealthCheckResponse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mount scenarios. They mount for real, so they only run inside a private mount namespace: the
 * {@link MountNamespaceTest} starts each one through {@link InNamespace} under {@code unshare -m}.
 */
class MountScenarios implements AutoCloseable {
    private static final int SIGSTOP = 19;
    private static final int SIGCONT = 18;
    private static final Duration KILL_GRACE = Duration.ofSeconds(2);

    private final Path dir;
    private final JnrPosix posix = new JnrPosix();
    private final ProcessRunner runner = new ProcessRunner(posix, KILL_GRACE, 65536);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Heartbeats heartbeats = new Heartbeats(Clock.systemUTC());
    private final AtomicBoolean masterUp = new AtomicBoolean();
    private final List<Process> started = new ArrayList<>();
    private final Path export;

    MountScenarios(Path dir, String parentNamespace) throws Exception {
        this.dir = dir;
        if (Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString().equals(parentNamespace)) {
            throw new IllegalStateException("refusing to run mount scenarios outside a private mount namespace");
        }
        export = mkdir("export");
        sh("mount", "-t", "tmpfs", "-o", "size=4m", "master-export", export.toString());
        Files.writeString(export.resolve("Packages"), "PACKAGES: 1\n");
    }

    // --- scenarios ---------------------------------------------------------------------------------------------

    void masterComesUpMountsAndRestartKeepsOwnership() throws Exception {
        Path pkgs = mkdir("pkgs");
        Path tree = mkdir("tree");
        Path fstab = dir.resolve("fstab");
        Files.writeString(fstab, export + " " + tree + " none bind,ro 0 0\n");
        sh("mount", "--bind", fstab.toString(), "/etc/fstab");
        Map<String, MountConfig.MountSpec> specs = Map.of(
                "packages", new TestSpec(pkgs, false, export.toString(), "none", "bind,ro"),
                "tree", TestSpec.fstab(tree));
        TestMountConfig config = TestMountConfig.of(specs, DownPolicy.RELEASE);
        Path ownedFile = dir.resolve("state/mounts-owned.properties");
        MountManager mounts = manager(config, guard(), ownedFile);
        MountWatch watch = watch(mounts);
        MountsReadiness health = new MountsReadiness(mounts);
        MountsPrecondition precondition = new MountsPrecondition(mounts);

        watch.wake();
        watch.awaitIdle();
        assertTrue(table().at(pkgs).isEmpty(), "nothing is mounted while the master is not UP");
        assertEquals(HealthCheckResponse.Status.DOWN, health.call().getStatus());
        assertEquals(null, watch.due(), "with the master not UP nothing is due: the loop waits for the event");

        masterUp.set(true);
        watch.onMaster(transition(true));
        watch.awaitIdle();
        assertTrue(watch.due().isAfter(Instant.now().plus(Duration.ofMinutes(59))),
                "mounted and probed: next due is the probe an hour on: " + watch.due());

        for (String name : List.of("packages", "tree")) {
            MountStatus s = mounts.status(name);
            assertEquals(Phase.MOUNTED, s.phase(), name + ": " + s.detail());
            assertTrue(s.ownedByAgent(), name);
            assertTrue(s.lastProbeAt().isPresent(), name + " was probed after mounting");
        }
        MountEntry mounted = table().at(pkgs).orElseThrow();
        assertTrue(mounted.readOnly(), "bind,ro gives a read-only mount: " + mounted);
        assertEquals("PACKAGES: 1\n", Files.readString(pkgs.resolve("Packages")));
        assertEquals("PACKAGES: 1\n", Files.readString(tree.resolve("Packages")));
        assertThrows(IOException.class, () -> Files.writeString(pkgs.resolve("new"), "x"));
        assertEquals(HealthCheckResponse.Status.UP, health.call().getStatus());
        assertTrue(precondition.check().ok(), precondition.check().detail());
        assertEquals(1.0, registry.get("binhost.mount.up").tag("mount", "packages").gauge().value());
        assertEquals(2.0, registry.get("binhost.mount.operations").tag("op", "mount").tag("outcome", "success")
                .counter().count());

        // A new agent process (restart) finds its mounts recorded and may release them; nothing else is touched.
        MountManager restarted = manager(config, guard(), ownedFile);
        assertTrue(restarted.status("packages").ownedByAgent(), restarted.status("packages").detail());
        restarted.releaseAll("test");
        assertTrue(table().at(pkgs).isEmpty());
        assertTrue(table().at(tree).isEmpty());
        assertTrue(table().at(export).isPresent(), "the export itself was not the agent's to unmount");
    }

    void masterUpAtStartMountsOnFirstTick() throws Exception {
        Path pkgs = mkdir("pkgs");
        TestMountConfig config = TestMountConfig.of(
                Map.of("packages", new TestSpec(pkgs, false, export.toString(), "none", "bind,ro")), DownPolicy.KEEP);
        MountManager mounts = manager(config, guard(), null);
        MountWatch watch = watch(mounts);
        masterUp.set(true);
        for (int i = 0; i < 5; i++) {
            watch.wake();
            watch.awaitIdle();
        }
        assertEquals(Phase.MOUNTED, mounts.status("packages").phase(), mounts.status("packages").detail());
        assertEquals(1.0, registry.get("binhost.mount.operations").tag("op", "mount").counter().count(),
                "repeated ticks while mounted do not mount again");

        masterUp.set(false);
        watch.onMaster(transition(false));
        watch.awaitIdle();
        assertTrue(table().at(pkgs).isPresent(), "policy keep leaves the mount when the master goes DOWN");
        assertEquals(Phase.MOUNTED, mounts.status("packages").phase());
        mounts.releaseAll("test cleanup");
        assertTrue(table().at(pkgs).isEmpty());
    }

    void frozenFuseServerGoesStaleAndComesBack() throws Exception {
        Path pkgs = mkdir("pkgs");
        TestMountConfig config = TestMountConfig.of(
                Map.of("packages", new TestSpec(pkgs, false, export.toString(), "fuse.bindfs", "ro")),
                DownPolicy.RELEASE);
        MountManager mounts = manager(config, guard(), null);
        MountWatch watch = watch(mounts);
        MountsReadiness health = new MountsReadiness(mounts);
        MountsPrecondition precondition = new MountsPrecondition(mounts);
        masterUp.set(true);
        watch.onMaster(transition(true));
        watch.awaitIdle();
        assertEquals(Phase.MOUNTED, mounts.status("packages").phase(), mounts.status("packages").detail());
        assertTrue(table().at(pkgs).orElseThrow().isFuse());
        long server = fuseDaemon(pkgs).orElseThrow(() -> new AssertionError("no bindfs process serves " + pkgs));

        posix.kill((int) server, SIGSTOP);
        awaitStopped(server);
        Future<MountStatus> probing = watch.submitProbe("packages");
        // a timeout is confirmed by a second probe: two deadlines, each with the kill grace
        Duration bound = config.probeTimeout().plus(KILL_GRACE).multipliedBy(2).plusSeconds(3);
        long until = System.nanoTime() + bound.toNanos();
        int samples = 0;
        while (!probing.isDone() && System.nanoTime() < until) {
            watch.wake();
            assertTrue(heartbeats.wedged().isEmpty(), "liveness stays UP: " + heartbeats.wedged());
            HealthCheckResponse.Status ready = health.call().getStatus();
            assertTrue(ready == HealthCheckResponse.Status.UP || mounts.status("packages").phase() == Phase.STALE,
                    "readiness answers from memory while the probe is out, UP until the probe calls it stale");
            assertNoThreadInFileSystemCall();
            samples++;
            Thread.sleep(200);
        }
        assertTrue(samples > 0, "the probe did not block the caller at all, so the test saw nothing");
        MountStatus stale;
        try {
            stale = probing.get(1, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            Thread.getAllStackTraces().forEach((t, st) -> System.out.println(t.getName() + " " + t.getState() + "\n  "
                    + String.join("\n  ", java.util.Arrays.stream(st).limit(12).map(Object::toString).toList())));
            throw new AssertionError("the probe did not end within " + bound, e);
        }
        assertEquals(Phase.STALE, stale.phase(), stale.detail());
        System.out.printf("figure: frozen server -> stale after %d ms (probe timeout %d ms), probe + lazy release %d ms%n",
                stale.lastProbeTook().orElseThrow().toMillis(), config.probeTimeout().toMillis(),
                (System.nanoTime() - (until - bound.toNanos())) / 1_000_000);
        assertTrue(stale.detail().contains("two probes in a row got no answer within " + config.probeTimeout()),
                stale.detail());
        assertTrue(stale.detail().contains("released lazily"), stale.detail());
        assertTrue(table().at(pkgs).isEmpty(), "the stale mount was detached lazily");
        assertEquals(HealthCheckResponse.Status.DOWN, health.call().getStatus());
        assertFalse(precondition.check().ok());
        assertTrue(heartbeats.wedged().isEmpty(), "liveness UP: " + heartbeats.wedged());
        assertEquals(0.0, registry.get("binhost.mount.up").gauge().value());
        var probeTimer = registry.get("binhost.mount.probe.duration").tag("outcome", "timeout").timer();
        assertEquals(2, probeTimer.count(), "the first timeout was confirmed by a second probe");
        assertTrue(probeTimer.max(TimeUnit.MILLISECONDS) <= config.probeTimeout().plus(KILL_GRACE).toMillis(),
                "the probe was ended within its timeout plus the kill grace: " + probeTimer.max(TimeUnit.MILLISECONDS));
        assertTrue(probeChildren(pkgs).isEmpty(), "the probe's child process was killed: " + probeChildren(pkgs));
        assertEquals(1.0, registry.get("binhost.mount.operations").tag("op", "lazy-umount").tag("outcome", "success")
                .counter().count());

        // The server thaws; the master watch sees it go and come back, and the agent mounts again.
        posix.kill((int) server, SIGCONT);
        masterUp.set(false);
        watch.onMaster(transition(false));
        masterUp.set(true);
        watch.onMaster(transition(true));
        watch.awaitIdle();
        MountStatus back = mounts.status("packages");
        assertEquals(Phase.MOUNTED, back.phase(), back.detail());
        assertTrue(back.ownedByAgent());
        assertEquals(HealthCheckResponse.Status.UP, health.call().getStatus());
        assertEquals("PACKAGES: 1\n", readInChild(pkgs.resolve("Packages")));
        mounts.releaseAll("test cleanup");
    }

    /**
     * The server misses one probe's deadline (paused), then answers again (resumed before the second probe's
     * deadline): the mount stays, as a healthy share on a loaded machine should.
     */
    void serverThatMissesOneDeadlineStaysMounted() throws Exception {
        Path pkgs = mkdir("pkgs");
        TestMountConfig config = TestMountConfig.of(
                Map.of("packages", new TestSpec(pkgs, false, export.toString(), "fuse.bindfs", "ro")),
                DownPolicy.RELEASE);
        MountManager mounts = manager(config, guard(), null);
        MountWatch watch = watch(mounts);
        masterUp.set(true);
        watch.onMaster(transition(true));
        watch.awaitIdle();
        assertEquals(Phase.MOUNTED, mounts.status("packages").phase(), mounts.status("packages").detail());
        long mountId = table().at(pkgs).orElseThrow().mountId();
        long server = fuseDaemon(pkgs).orElseThrow(() -> new AssertionError("no bindfs process serves " + pkgs));
        var okBefore = registry.find("binhost.mount.probe.duration").tag("outcome", "ok").timer();
        long answeredBefore = okBefore == null ? 0 : okBefore.count();

        posix.kill((int) server, SIGSTOP);
        awaitStopped(server);
        Future<MountStatus> probing = watch.submitProbe("packages");
        long until = System.nanoTime() + config.probeTimeout().plus(KILL_GRACE).plusSeconds(3).toNanos();
        while (registry.find("binhost.mount.probe.duration").tag("outcome", "timeout").timer() == null
                && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        posix.kill((int) server, SIGCONT);
        assertEquals(1, registry.get("binhost.mount.probe.duration").tag("outcome", "timeout").timer().count(),
                "the first probe timed out");
        MountStatus after = probing.get(config.probeTimeout().plus(KILL_GRACE).plusSeconds(3).toMillis(),
                TimeUnit.MILLISECONDS);
        assertEquals(Phase.MOUNTED, after.phase(), after.detail());
        assertEquals(answeredBefore + 1,
                registry.get("binhost.mount.probe.duration").tag("outcome", "ok").timer().count(), "the second probe, run at once, answered");
        assertEquals(mountId, table().at(pkgs).orElseThrow().mountId(), "the same mount, never released");
        assertEquals(HealthCheckResponse.Status.UP, new MountsReadiness(mounts).call().getStatus());
        assertTrue(registry.find("binhost.mount.operations").tag("op", "lazy-umount").counters().isEmpty(),
                "no release was tried");
        mounts.releaseAll("test cleanup");
    }

    void busyMountIsReleasedLazily() throws Exception {
        Path pkgs = mkdir("pkgs");
        TestMountConfig config = TestMountConfig.of(
                Map.of("packages", new TestSpec(pkgs, false, export.toString(), "none", "bind,ro")),
                DownPolicy.RELEASE);
        MountManager mounts = manager(config, guard(), null);
        MountWatch watch = watch(mounts);
        masterUp.set(true);
        watch.onMaster(transition(true));
        watch.awaitIdle();
        assertEquals(Phase.MOUNTED, mounts.status("packages").phase(), mounts.status("packages").detail());
        Process holder = start(new ProcessBuilder("sleep", "300").directory(pkgs.toFile()));

        masterUp.set(false);
        watch.onMaster(transition(false));
        watch.awaitIdle();

        MountStatus s = mounts.status("packages");
        assertEquals(Phase.NOT_MOUNTED, s.phase(), s.detail());
        assertTrue(s.detail().startsWith("released lazily: master went DOWN"), s.detail());
        assertTrue(table().at(pkgs).isEmpty(), "detached from the tree");
        assertTrue(holder.isAlive(), "the process using the mount was not disturbed");
        assertEquals("PACKAGES: 1\n",
                Files.readString(Path.of("/proc", Long.toString(holder.pid()), "cwd", "Packages")),
                "the holder still reads through the lazily detached mount");
        assertEquals(1.0, registry.get("binhost.mount.operations").tag("op", "umount").tag("outcome", "failure")
                .counter().count(), "the plain umount failed: target busy");
        assertEquals(1.0, registry.get("binhost.mount.operations").tag("op", "lazy-umount").tag("outcome", "success")
                .counter().count());
    }

    void releaseWaitsForEmerge() throws Exception {
        Path pkgs = mkdir("pkgs");
        Path fakeProc = mkdir("proc");
        AtomicBoolean agentEmerge = new AtomicBoolean();
        EmergeActivity activity = new EmergeActivity(fakeProc);
        activity.watchAgentRun(() -> agentEmerge.get() ? Optional.of("run-1") : Optional.empty());
        TestMountConfig config = TestMountConfig.of(
                Map.of("packages", new TestSpec(pkgs, false, export.toString(), "none", "bind,ro")),
                DownPolicy.RELEASE);
        // Deferred releases are tried again every 100 ms here (10 s in the agent), by the loop on its own.
        MountManager mounts = new MountManager(config, runner, registry, Clock.systemUTC(),
                new EmergeGuard(activity), Optional.empty(), Duration.ofMillis(100));
        MountWatch watch = watch(mounts);
        masterUp.set(true);
        watch.onMaster(transition(true));
        watch.awaitIdle();

        agentEmerge.set(true);
        masterUp.set(false);
        watch.onMaster(transition(false));
        watch.awaitIdle();
        assertTrue(table().at(pkgs).isPresent(), "never released while the update run's emerge runs");
        MountStatus waiting = mounts.status("packages");
        assertTrue(waiting.releasePending());
        MountState.ReleaseDeferred deferred = (MountState.ReleaseDeferred) waiting.state();
        assertEquals(new MountState.EmergeRunning(true, List.of()), deferred.blocker());
        assertTrue(deferred.why().startsWith("master went DOWN: "), deferred.why());
        assertTrue(waiting.detail().contains("deferred"), waiting.detail());
        assertTrue(watch.due() != null, "the loop will look again while the emerge runs");

        // The update run is done, but an admin's own emerge (seen in /proc) still runs.
        agentEmerge.set(false);
        Path pid = Files.createDirectories(fakeProc.resolve("4242"));
        Files.writeString(pid.resolve("comm"), "python3.12\n");
        Files.writeString(pid.resolve("cmdline"), "/usr/bin/python3.12\0/usr/bin/emerge\0--update\0@world\0");
        awaitState(mounts, s -> s.state() instanceof MountState.ReleaseDeferred d
                && d.blocker().equals(new MountState.EmergeRunning(false, List.of(4242L))));
        assertTrue(table().at(pkgs).isPresent(), "never released while an emerge process runs");
        assertTrue(mounts.status("packages").detail().contains("pid 4242"), mounts.status("packages").detail());
        Instant firstCheck = ((MountState.ReleaseDeferred) mounts.status("packages").state()).checkAt();
        awaitState(mounts, s -> s.state() instanceof MountState.ReleaseDeferred d && d.checkAt().isAfter(firstCheck));
        assertEquals(2.0, registry.get("binhost.mount.operations").tag("op", "umount").tag("outcome", "deferred")
                .counter().count(), "re-checks that find the same emerge are not counted again");

        Files.delete(pid.resolve("comm"));
        Files.delete(pid.resolve("cmdline"));
        awaitState(mounts, s -> !s.releasePending());
        assertTrue(table().at(pkgs).isEmpty(), "released once no emerge runs");
        assertTrue(mounts.status("packages").state() instanceof MountState.Released, mounts.status("packages").detail());
        assertEquals(2.0, registry.get("binhost.mount.operations").tag("op", "umount").tag("outcome", "deferred")
                .counter().count());
        watch.awaitIdle();
        assertEquals(null, watch.due(), "released and the master DOWN: nothing is due until it comes back");
    }

    void missingMountPointIsAnError() throws Exception {
        Path missing = dir.resolve("nope");
        Path file = dir.resolve("a-file");
        Files.writeString(file, "not a directory");
        TestMountConfig config = TestMountConfig.of(Map.of(
                "missing", new TestSpec(missing, false, export.toString(), "none", "bind,ro"),
                "file", new TestSpec(file, false, export.toString(), "none", "bind,ro")), DownPolicy.RELEASE);
        MountManager mounts = manager(config, guard(), null);
        String before = Files.readString(Path.of("/proc/self/mountinfo"));
        mounts.mountAll();
        MountStatus s = mounts.status("missing");
        assertEquals(Phase.ERROR, s.phase());
        assertEquals("mount point " + missing + " does not exist; create it (mkdir -p " + missing
                + ") or change binhost.mount.mounts.missing.target", s.detail());
        assertTrue(mounts.status("file").detail().contains(file + " is not a directory"),
                mounts.status("file").detail());
        assertFalse(Files.exists(missing), "the agent does not create mount points on its own");
        assertEquals(before, Files.readString(Path.of("/proc/self/mountinfo")), "nothing was mounted");
        assertEquals(HealthCheckResponse.Status.DOWN, new MountsReadiness(mounts).call().getStatus());
    }

    void occupiedMountPointIsAnErrorAndForeignMountsStay() throws Exception {
        Path occupied = mkdir("occupied");
        Path adminsOwn = mkdir("admins-own");
        Path covered = mkdir("covered");
        sh("mount", "-t", "tmpfs", "-o", "size=1m", "something-else", occupied.toString());
        sh("mount", "--bind", "-o", "ro", export.toString(), adminsOwn.toString());
        int occupiedId = table().at(occupied).orElseThrow().mountId();
        int adminsId = table().at(adminsOwn).orElseThrow().mountId();
        TestMountConfig config = TestMountConfig.of(Map.of(
                "occupied", new TestSpec(occupied, false, export.toString(), "none", "bind,ro"),
                "admins-own", new TestSpec(adminsOwn, false, export.toString(), "none", "bind,ro"),
                "covered", new TestSpec(covered, false, export.toString(), "none", "bind,ro")), DownPolicy.RELEASE);
        MountManager mounts = manager(config, guard(), null);
        mounts.mountAll();

        MountStatus o = mounts.status("occupied");
        assertEquals(Phase.ERROR, o.phase());
        assertTrue(o.detail().startsWith("mount point " + occupied + " already holds something-else (tmpfs, mount id "
                + occupiedId + "), not " + export + " (none)"), o.detail());
        MountStatus a = mounts.status("admins-own");
        assertEquals(Phase.MOUNTED, a.phase(), a.detail());
        assertFalse(a.ownedByAgent(), "the admin's identical bind mount is used, not claimed");
        assertTrue(mounts.status("covered").ownedByAgent());
        int agentsCovered = table().at(covered).orElseThrow().mountId();
        sh("mount", "-t", "tmpfs", "-o", "size=1m", "on-top", covered.toString());

        mounts.releaseAll("test: master went DOWN");

        assertEquals(occupiedId, table().at(occupied).orElseThrow().mountId(), "foreign tmpfs left alone");
        assertEquals(adminsId, table().at(adminsOwn).orElseThrow().mountId(), "admin's bind mount left alone");
        assertEquals("on-top", table().at(covered).orElseThrow().source(), "the mount on top was not the agent's");
        assertTrue(table().byId(agentsCovered).isPresent(), "the agent does not unmount what lies under another");
        assertTrue(mounts.status("covered").detail().contains("another mount covers"), mounts.status("covered").detail());
        assertEquals(0.0, registry.find("binhost.mount.operations").tag("op", "umount").counters().stream()
                .mapToDouble(c -> c.count()).sum(), "no umount was even tried");
    }

    // --- helpers -----------------------------------------------------------------------------------------------

    private MountManager manager(MountConfig config, EmergeGuard guard, Path ownedFile) {
        return new MountManager(config, runner, registry, Clock.systemUTC(), guard, Optional.ofNullable(ownedFile));
    }

    private MountWatch watch(MountManager mounts) {
        return new MountWatch(mounts, masterUp::get, heartbeats, Clock.systemUTC());
    }

    /** Waits (at most 10 s) until the loop, running on its own, brings the mount to a state. */
    private static void awaitState(MountManager mounts, java.util.function.Predicate<MountStatus> wanted)
            throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!wanted.test(mounts.status("packages")) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertTrue(wanted.test(mounts.status("packages")), "not reached: " + mounts.status("packages"));
    }

    private EmergeGuard guard() throws IOException {
        return new EmergeGuard(new EmergeActivity(mkdir("empty-proc")));
    }

    private static MasterTransition transition(boolean up) {
        Instant now = Instant.now();
        MasterState upState = new MasterState(MasterState.Status.UP, now, "rsync answered", 0, 2, now, List.of());
        MasterState downState = new MasterState(MasterState.Status.DOWN, now, "rsync: connection refused", 3, 0, now,
                List.of());
        return up ? new MasterTransition(downState, upState) : new MasterTransition(upState, downState);
    }

    private MountTable table() throws IOException {
        return MountTable.parse(Files.readString(Path.of("/proc/self/mountinfo")));
    }

    private Path mkdir(String name) throws IOException {
        return Files.createDirectories(dir.resolve(name));
    }

    private void sh(String... argv) throws Exception {
        CommandResult r = runner.run(Command.of("test-" + argv[0], argv).deadline(Duration.ofSeconds(20)).build());
        assertTrue(r.succeeded(), String.join(" ", argv) + ": " + r.summary() + ": " + r.outputTail());
    }

    private Process start(ProcessBuilder builder) throws IOException {
        Process p = builder.start();
        started.add(p);
        return p;
    }

    /** Reads a file through a child process, as the agent would (a frozen server hangs the child, not us). */
    private String readInChild(Path file) throws Exception {
        CommandResult r = runner.run(Command.of("cat", "cat", file.toString()).deadline(Duration.ofSeconds(5)).build());
        assertTrue(r.succeeded(), r.summary());
        return r.outputTail();
    }

    /**
     * kill(SIGSTOP) returns before every thread has stopped; a FUSE thread that still picks up the probe's request
     * would leave the probe in uninterruptible sleep, which is another scenario than a server that is down.
     */
    private static void awaitStopped(long pid) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < until) {
            boolean allStopped = true;
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : tasks.toList()) {
                    String stat = Files.readString(task.resolve("stat"));
                    char state = stat.charAt(stat.lastIndexOf(')') + 2);
                    allStopped &= state == 'T' || state == 't';
                }
            }
            if (allStopped) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("bindfs " + pid + " did not stop");
    }

    private static Optional<Long> fuseDaemon(Path mountPoint) {
        return processesNaming(mountPoint, "bindfs").stream().findFirst();
    }

    private static List<Long> probeChildren(Path mountPoint) {
        return processesNaming(mountPoint, "stat");
    }

    private static List<Long> processesNaming(Path path, String comm) {
        List<Long> pids = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            Path proc = Path.of("/proc", Long.toString(p.pid()));
            try {
                if (Files.readString(proc.resolve("comm")).strip().equals(comm)
                        && Files.readString(proc.resolve("cmdline")).contains(path.toString())) {
                    pids.add(p.pid());
                }
            } catch (IOException e) {
                // ended meanwhile
            }
        });
        return pids;
    }

    /** No thread of this JVM sits in a file-system system call (where a frozen server would hold it). */
    private static void assertNoThreadInFileSystemCall() {
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            for (StackTraceElement frame : stack) {
                String where = frame.getClassName() + "." + frame.getMethodName();
                assertFalse(where.startsWith("sun.nio.fs.UnixNativeDispatcher.stat")
                                || where.startsWith("sun.nio.fs.UnixNativeDispatcher.open")
                                || where.startsWith("sun.nio.fs.UnixNativeDispatcher.opendir")
                                || where.startsWith("java.io.UnixFileSystem.getBooleanAttributes")
                                || where.startsWith("sun.nio.fs.LinuxNativeDispatcher.statfs")
                                || where.startsWith("sun.nio.fs.UnixNativeDispatcher.statfs"),
                        "thread " + thread.getName() + " is in " + where + " (" + thread.getState() + ")");
            }
        });
    }

    @Override
    public void close() throws Exception {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        for (long pid : processesNaming(dir, "bindfs")) {
            posix.kill((int) pid, SIGCONT);
            posix.kill((int) pid, JnrPosix.SIGKILL);
        }
        // Deepest first; lazily, so a frozen FUSE mount cannot hang the cleanup.
        List<MountEntry> ours = new ArrayList<>(table().entries().stream()
                .filter(e -> e.mountPoint().startsWith(dir) || e.mountPoint().equals(Path.of("/etc/fstab"))).toList());
        ours.sort(Comparator.comparingInt(MountEntry::mountId).reversed());
        for (MountEntry e : ours) {
            runner.run(Command.of("cleanup-umount", "umount", "-l", e.mountPoint().toString())
                    .deadline(Duration.ofSeconds(10)).build());
        }
    }
}
