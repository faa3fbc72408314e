package dev.binhost.agent.mount;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.metrics.OwnedMeters;
import dev.binhost.agent.mount.MountConfig.MountSpec;
import dev.binhost.agent.mount.MountState.EmergeRunning;
import dev.binhost.agent.mount.MountState.Mounted;
import dev.binhost.agent.mount.MountState.Owner;
import dev.binhost.agent.mount.MountState.ReleaseDeferred;
import dev.binhost.agent.mount.MountState.ReleaseFailed;
import dev.binhost.agent.mount.MountState.Stale;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.state.DurableFile;
import dev.binhost.agent.state.StateDir;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Mounts the master's shares, releases them by policy, and probes their health. The agent's own threads never
 * touch a mounted file system: the mount table comes from mountinfo, and mount, umount and the health probe are
 * child processes with deadlines, so a dead server can only ever wedge a child that the runner kills.
 *
 * <p>The agent unmounts only what it mounted itself: it remembers the mount id of each of its mounts (also in
 * the state directory, across restarts) and compares it with what mountinfo shows at the target.
 *
 * <p>Each mount's state is one {@link MountState}; {@link MountMachine} says what it asks for and what each
 * outcome leads to, and this class does the I/O in between. The owned-mounts file is written whenever the set of
 * states holding an {@link MountState.Owner} changes.
 */
@ApplicationScoped
public class MountManager {
    private final MountConfig config;
    private final ProcessRunner runner;
    private final MeterRegistry registry;
    private final OwnedMeters gauges;
    private final Clock clock;
    private final EmergeGuard guard;
    private final Optional<Path> ownedFile;
    private final MountMachine machine;
    private final Map<String, MountSpec> specs = new TreeMap<>();
    /** name → the mount's one status: its state (what it is, what is due) and its last probe. */
    private final Map<String, MountStatus> statuses = new ConcurrentHashMap<>();

    @Inject
    public MountManager(MountConfig config, ProcessRunner runner, MeterRegistry registry, Clock clock,
            EmergeGuard guard, AgentConfig agent) {
        this(config, runner, registry, clock, guard, Optional.of(new StateDir(agent.stateDir()).ownedMounts()));
    }

    public MountManager(MountConfig config, ProcessRunner runner, MeterRegistry registry, Clock clock,
            EmergeGuard guard, Optional<Path> ownedFile) {
        this(config, runner, registry, clock, guard, ownedFile, MountMachine.RELEASE_RECHECK);
    }

    /** For tests: a deferred release is tried again every {@code releaseRecheck}. */
    MountManager(MountConfig config, ProcessRunner runner, MeterRegistry registry, Clock clock, EmergeGuard guard,
            Optional<Path> ownedFile, Duration releaseRecheck) {
        this.config = config;
        this.runner = runner;
        this.registry = registry;
        this.gauges = new OwnedMeters(registry);
        this.clock = clock;
        this.guard = guard;
        this.ownedFile = ownedFile;
        this.machine = new MountMachine(config.probeInterval(), config.retryInterval(), releaseRecheck);
        specs.putAll(config.mounts());
        Instant now = clock.instant();
        specs.forEach((name, spec) -> {
            statuses.put(name, MountStatus.initial(name, spec.target(), now));
            gauges.add(Gauge.builder("binhost.mount.up", statuses, s -> s.get(name).healthy() ? 1 : 0)
                    .description("1 when the mount is there and answers its probe, else 0")
                    .tag("mount", name)
                    .register(registry));
        });
        loadOwned();
    }

    public MountConfig config() {
        return config;
    }

    public List<MountStatus> statuses() {
        return specs.keySet().stream().map(statuses::get).toList();
    }

    public MountStatus status(String name) {
        return statuses.get(name);
    }

    /** The current mount table; reading it never blocks on a mounted file system. */
    public MountTable table() throws IOException {
        return MountTable.parse(Files.readString(config.mountinfo()));
    }

    /**
     * Mounts every configured mount now (the master came up), whatever retry time an earlier failure set. A
     * release deferred because the master went DOWN is no longer wanted; a stale mount's release still is.
     */
    public synchronized void mountAll() {
        for (String name : specs.keySet()) {
            if (state(name) instanceof ReleaseDeferred d && !d.forStale()) {
                cancel(name, d);
            }
            mount(name);
        }
    }

    /** Releases every mount the agent made (the master went down and the policy says release). */
    public synchronized void releaseAll(String why) {
        for (String name : specs.keySet()) {
            release(name, why, true);
        }
    }

    /** One round of the watch: for each mount, what its state says is due now (see {@link MountMachine}). */
    public synchronized void reconcile(boolean masterUp) {
        Instant now = clock.instant();
        for (String name : specs.keySet()) {
            MountState s = state(name);
            switch (machine.action(s, masterUp, now)) {
                case CANCEL_RELEASE -> cancel(name, (ReleaseDeferred) s);
                case RELEASE -> release(name, s instanceof ReleaseDeferred d ? d.why() : s.detail(), !masterUp);
                case MOUNT -> mount(name);
                case PROBE -> probe(name);
                case NONE -> { }
            }
        }
    }

    /**
     * When a round is next due for any mount: the earliest probe, retry or release re-check; null when only an
     * event can change anything (no mount configured, nothing to mount while the master is not UP).
     */
    public synchronized Instant nextDue(boolean masterUp) {
        return specs.keySet().stream().map(name -> machine.due(state(name), masterUp))
                .flatMap(Optional::stream).min(Instant::compareTo).orElse(null);
    }

    /** Mounts one configured mount unless it is there already; the status says what happened and why. */
    public synchronized MountStatus mount(String name) {
        MountSpec spec = spec(name);
        Path target = spec.target();
        Instant now = clock.instant();
        MountState before = state(name);
        Optional<Owner> mine = before.owner();
        MountTable table;
        try {
            table = table();
        } catch (IOException | IllegalArgumentException e) {
            return fail(name, before, mine, "cannot read the mount table " + config.mountinfo() + ": "
                    + e.getMessage());
        }
        Optional<MountEntry> there = table.at(target);
        if (there.isPresent()) {
            MountEntry e = there.get();
            if (mine.isPresent() && mine.get().is(e)) {
                if (before instanceof Mounted) {
                    return statuses.get(name);
                }
                put(name, machine.mounted(before, mine, "mounted by the agent: " + e.describe(), now));
                return probe(name);
            }
            if (mine.isPresent()) {
                return fail(name, before, mine, target + " now shows " + e.describe() + " on top of the agent's "
                        + "mount (id " + mine.get().mountId() + "); someone else mounted over it, the agent leaves "
                        + "both alone");
            }
            if (matches(spec, e, table)) {
                put(name, machine.mounted(before, Optional.empty(), "mounted outside the agent: " + e.describe()
                        + "; used as is and never unmounted by the agent", now));
                return probe(name);
            }
            return fail(name, before, Optional.empty(), "mount point " + target + " already holds " + e.describe()
                    + ", not " + (spec.fstab() ? "the /etc/fstab entry" : spec.source().orElse("?") + " ("
                    + spec.effectiveType() + ")") + "; the agent does not mount over it. Unmount it or change "
                    + "binhost.mount.mounts." + name + ".target");
        }
        // Nothing is at the target: whatever the agent had mounted there is gone.
        if (!Files.isDirectory(target)) {
            return fail(name, before, Optional.empty(), "mount point " + target + (Files.exists(target)
                    ? " is not a directory" : " does not exist") + "; create it (mkdir -p " + target
                    + ") or change binhost.mount.mounts." + name + ".target");
        }
        List<String> argv = mountArgv(spec);
        put(name, machine.mounting(String.join(" ", argv), now));
        CommandResult r = run("mount", argv);
        if (!r.succeeded()) {
            return fail(name, before, Optional.empty(), "`" + String.join(" ", argv) + "` failed: "
                    + (r.timedOut() ? "no answer within " + config.commandTimeout() : r.lastLine()));
        }
        Optional<MountEntry> mounted;
        try {
            mounted = table().at(target);
        } catch (IOException | IllegalArgumentException e) {
            return fail(name, before, Optional.empty(), "mounted, but cannot read the mount table: "
                    + e.getMessage());
        }
        if (mounted.isEmpty()) {
            return fail(name, before, Optional.empty(), "mount reported success but " + target + " is not in "
                    + config.mountinfo());
        }
        MountEntry m = mounted.get();
        Log.infof("Mounted %s at %s: %s", name, target, m.describe());
        put(name, machine.mounted(before, Optional.of(new Owner(m.mountId(), m.device())),
                "mounted by the agent: " + m.describe(), clock.instant()));
        return probe(name);
    }

    /**
     * Unmounts one mount if the agent mounted it and no emerge runs; a busy mount is detached lazily
     * ({@code umount -l}), and a stale one goes straight there (it may hang a plain umount). So does an NFS mount
     * whose master is down: on a real client a plain umount then waits for the server until the command's
     * deadline (20 s measured on Linux 6.1, server stopped), where {@code umount -l} detaches at once. A release
     * that cannot happen now is deferred: the state keeps why it is wanted and what it waits for.
     */
    public synchronized MountStatus release(String name, String why) {
        return release(name, why, false);
    }

    private MountStatus release(String name, String why, boolean masterDown) {
        MountSpec spec = spec(name);
        MountState s = state(name);
        Optional<Owner> mine = s.owner();
        if (mine.isEmpty()) {
            Log.debugf("Not releasing %s: the agent did not mount what is at %s", name, spec.target());
            return statuses.get(name);
        }
        Instant now = clock.instant();
        boolean stale = (s instanceof ReleaseDeferred d ? d.in() : s) instanceof Stale;
        Optional<EmergeRunning> emerge = guard.emergeRunning();
        if (emerge.isPresent()) {
            return defer(name, s, machine.deferred(s, why, emerge.get(), now));
        }
        MountTable table;
        try {
            table = table();
        } catch (IOException | IllegalArgumentException e) {
            return defer(name, s, machine.deferred(s, why, new ReleaseFailed("release waits: cannot read the "
                    + "mount table: " + e.getMessage()), now));
        }
        Optional<MountEntry> there = table.at(spec.target());
        if (there.isEmpty() || !mine.get().is(there.get())) {
            boolean stillSomewhere = table.byId(mine.get().mountId()).filter(mine.get()::is).isPresent();
            if (stillSomewhere) {
                return defer(name, s, machine.deferred(s, why, new ReleaseFailed("not released: another mount "
                        + "covers the agent's mount at " + spec.target() + "; the agent does not unmount what it "
                        + "did not mount"), now));
            }
            return put(name, machine.unmounted(s, "unmounted outside the agent", now));
        }
        boolean released = false;
        if (!stale && !(masterDown && there.get().isNfs())) {
            CommandResult plain = run("umount", List.of("umount", spec.target().toString()));
            released = plain.succeeded();
            if (!released) {
                Log.infof("umount %s failed (%s); detaching it lazily", spec.target(),
                        plain.timedOut() ? "timed out" : plain.lastLine());
            }
        }
        String how = "released";
        if (!released) {
            CommandResult lazy = detachLazily(spec.target(), mine.get());
            how = "released lazily";
            if (!lazy.succeeded()) {
                return defer(name, s, machine.deferred(s, why, new ReleaseFailed("umount -l " + spec.target()
                        + " failed: " + (lazy.timedOut() ? "timed out" : lazy.lastLine())), clock.instant()));
            }
        }
        Log.infof("%s %s (%s)", how, spec.target(), why);
        return put(name, machine.released(s, how, why, clock.instant()));
    }

    /**
     * Asks a child process whether the mount answers ({@code stat -f}, which always reaches the server). An error
     * (ESTALE, ENOTCONN) makes the mount stale at once; a timeout does when a second probe, run at once, times out
     * too (a loaded machine can miss one deadline, and releasing a healthy share for it would be worse). Stale is
     * reported, and the mount released lazily.
     */
    public synchronized MountStatus probe(String name) {
        MountSpec spec = spec(name);
        Instant now = clock.instant();
        MountState s = state(name);
        Optional<MountEntry> there;
        try {
            there = table().at(spec.target());
        } catch (IOException | IllegalArgumentException e) {
            return fail(name, s, s.owner(), "cannot read the mount table: " + e.getMessage());
        }
        if (there.isEmpty()) {
            return put(name, machine.unmounted(s, "not mounted (unmounted outside the agent?)", now));
        }
        CommandResult r;
        try {
            r = probeOnce(name, spec.target());
            if (r.timedOut()) {
                Log.infof("Mount %s: the probe got no answer within %s; probing once more before calling it stale",
                        name, config.probeTimeout());
                r = probeOnce(name, spec.target());
            }
        } catch (IOException e) {
            // The agent could not start the probe (its own disk is full, say): that says nothing of the share.
            Log.warnf("Mount %s: the probe could not be started (%s); probed again in %s", name, e.getMessage(),
                    config.probeInterval());
            count("probe", "not-run");
            return s instanceof MountState.Mounted ? put(name, machine.answered(s, now)) : statuses.get(name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return statuses.get(name);
        }
        now = clock.instant();
        if (r.succeeded()) {
            return put(name, machine.answered(s, now));
        }
        String why = r.timedOut()
                ? "stale: two probes in a row got no answer within " + config.probeTimeout()
                        + " (server dead or frozen?)"
                : "stale: the probe failed: " + r.lastLine();
        Log.warnf("Mount %s at %s is %s", name, spec.target(), why);
        put(name, machine.stale(s, why, now));
        return release(name, why);
    }

    private CommandResult probeOnce(String name, Path target) throws IOException, InterruptedException {
        CommandResult r = runner.run(probeCommand(target));
        String outcome = r.succeeded() ? "ok" : r.timedOut() ? "timeout" : "error";
        Timer.builder("binhost.mount.probe.duration")
                .description("Time the health probe of a mount took (a child process with a deadline)")
                .tag("mount", name).tag("outcome", outcome)
                .register(registry).record(r.took());
        statuses.put(name, statuses.get(name).probed(clock.instant(), r.took()));
        return r;
    }

    /** Probe one target in a child process; tests call it to probe paths that are not configured mounts. */
    CommandResult runProbe(Path target) {
        return runCommand(probeCommand(target));
    }

    /**
     * statfs(2) of the target in a child with a deadline: it needs an answer from the server, where a cached
     * attribute would not. Its output is discarded, so a full disk under the runner's output file (the state
     * dir) cannot fail a probe of a healthy share; only its error message, if any, is kept.
     */
    private Command probeCommand(Path target) {
        return Command.of("mount-probe", "sh", "-c", "exec stat -f -c %T -- \"$1\" >/dev/null", "mount-probe",
                target.toString()).deadline(config.probeTimeout()).disposable().build();
    }

    static List<String> mountArgv(MountSpec spec) {
        if (spec.fstab()) {
            return List.of("mount", spec.target().toString());
        }
        return List.of("mount", "-t", spec.effectiveType(), "-o", spec.effectiveOptions(), spec.source().orElseThrow(),
                spec.target().toString());
    }

    /**
     * Whether what is mounted at the target is what the spec would mount. A bind mount is recognised by the
     * device and root of the source's own mount; an fstab mount is accepted as is (fstab is the admin's word).
     */
    static boolean matches(MountSpec spec, MountEntry e, MountTable table) {
        if (spec.fstab()) {
            return true;
        }
        String source = spec.source().orElse("");
        List<String> options = List.of(spec.effectiveOptions().split(","));
        if (options.contains("bind") || options.contains("rbind")) {
            Path src = Path.of(source).toAbsolutePath().normalize();
            return table.containing(src).filter(under -> under.device().equals(e.device())
                    && Path.of(under.root()).resolve(under.mountPoint().relativize(src)).normalize()
                            .equals(Path.of(e.root()))).isPresent();
        }
        String type = spec.effectiveType();
        boolean typeOk = type.equals(e.fsType()) || (type.startsWith("nfs") && e.isNfs())
                || (type.startsWith("fuse") && e.isFuse());
        return typeOk && stripSlash(source).equals(stripSlash(e.source()));
    }

    private static String stripSlash(String s) {
        return s.length() > 1 && s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    private MountSpec spec(String name) {
        MountSpec spec = specs.get(name);
        if (spec == null) {
            throw new IllegalArgumentException("no mount named '" + name + "' is configured; known: " + specs.keySet());
        }
        return spec;
    }

    private CommandResult run(String op, List<String> argv) {
        CommandResult r = runCommand(Command.of(op, argv).deadline(config.commandTimeout()).build());
        count(op.equals("umount-lazy") ? "lazy-umount" : op,
                r.succeeded() ? "success" : r.timedOut() ? "timeout" : "failure");
        return r;
    }

    /**
     * {@code umount -l}, done when the mount has left the mount table. The detach itself is immediate, but the
     * umount process then tears the NFS client down, and with the server away that waits for it (seen on Linux
     * 6.1: the release showed 10 s after the mount had left the table). The mount is already gone for everyone,
     * so the agent does not wait; the process finishes on its own within the command deadline, which a reaper
     * thread still enforces.
     */
    private CommandResult detachLazily(Path target, Owner mine) {
        Command command = Command.of("umount-lazy", "umount", "-l", target.toString())
                .deadline(config.commandTimeout()).build();
        ProcessRunner.Running running;
        try {
            running = runner.start(command);
        } catch (IOException e) {
            count("lazy-umount", "failure");
            return new CommandResult(command.label(), 127, Duration.ZERO, false, e.getMessage(), Optional.empty());
        }
        long until = System.nanoTime() + config.commandTimeout().toNanos();
        try {
            while (running.isAlive() && System.nanoTime() < until) {
                if (table().byId(mine.mountId()).filter(mine::is).isEmpty()) {
                    Log.infof("%s detached; umount (pid %d) goes on tearing down the client on its own", target,
                            running.pid());
                    reap(running, command);
                    count("lazy-umount", "success");
                    return new CommandResult(command.label(), 0, Duration.ZERO, false, "", Optional.empty());
                }
                Thread.sleep(50);
            }
            CommandResult r = running.await();
            count("lazy-umount", r.succeeded() ? "success" : r.timedOut() ? "timeout" : "failure");
            return r;
        } catch (IOException | IllegalArgumentException e) {
            CommandResult r = awaitQuietly(running, command);
            count("lazy-umount", r.succeeded() ? "success" : r.timedOut() ? "timeout" : "failure");
            return r;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.cancel();
            reap(running, command);
            return new CommandResult(command.label(), 130, Duration.ZERO, false, "interrupted", Optional.empty());
        }
    }

    /** Waits for the command on a thread of its own, which ends it at its deadline (or now, when cancelled). */
    private static void reap(ProcessRunner.Running running, Command command) {
        Thread reaper = new Thread(() -> awaitQuietly(running, command), "umount-reaper-" + running.pid());
        reaper.setDaemon(true);
        reaper.start();
    }

    private static CommandResult awaitQuietly(ProcessRunner.Running running, Command command) {
        try {
            return running.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new CommandResult(command.label(), 130, Duration.ZERO, false, "interrupted", Optional.empty());
        }
    }

    /**
     * Runs a child through the runner, which bounds the wait even for a child that survives SIGKILL in
     * uninterruptible sleep (a hard NFS mount, a FUSE request the frozen server took): it reports that child
     * as timed out instead of waiting for it.
     */
    private CommandResult runCommand(Command command) {
        try {
            return runner.run(command);
        } catch (IOException e) {
            return new CommandResult(command.label(), 127, Duration.ZERO, false, e.getMessage(), Optional.empty());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new CommandResult(command.label(), 130, Duration.ZERO, false, "interrupted", Optional.empty());
        }
    }

    private void count(String op, String outcome) {
        registry.counter("binhost.mount.operations", "op", op, "outcome", outcome).increment();
    }

    private MountState state(String name) {
        return statuses.get(name).state();
    }

    private MountStatus fail(String name, MountState before, Optional<Owner> owner, String why) {
        Log.errorf("Mount %s: %s", name, why);
        return put(name, machine.failed(before, owner, why, clock.instant()));
    }

    private MountStatus defer(String name, MountState before, ReleaseDeferred next) {
        if (MountMachine.newDeferral(before, next)) {
            if (next.blocker() instanceof EmergeRunning) {
                count("umount", "deferred");
                Log.infof("Release of %s (%s) deferred: %s", name, next.why(), next.blocker().describe());
            } else {
                Log.warnf("Release of %s (%s) waits: %s; tried again at %s", name, next.why(),
                        next.blocker().describe(), next.checkAt());
            }
        }
        return put(name, next);
    }

    private void cancel(String name, ReleaseDeferred d) {
        Log.infof("Release of %s (%s) cancelled: the master is back", name, d.why());
        put(name, machine.cancelled(d));
    }

    /** Sets a mount's state; when that changes what the agent owns, the owned-mounts file follows. */
    private MountStatus put(String name, MountState next) {
        MountStatus before = statuses.get(name);
        MountStatus after = before.in(next);
        statuses.put(name, after);
        if (!before.state().owner().equals(next.owner())) {
            saveOwned();
        }
        return after;
    }

    private void loadOwned() {
        if (ownedFile.isEmpty() || !Files.isRegularFile(ownedFile.get())) {
            return;
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(ownedFile.get())) {
            p.load(in);
            MountTable table = table();
            Instant now = clock.instant();
            for (String name : specs.keySet()) {
                String v = p.getProperty(name);
                if (v == null) {
                    continue;
                }
                String[] parts = v.split(" ", 2);
                Owner o = new Owner(Integer.parseInt(parts[0]), parts[1]);
                Optional<MountEntry> there = table.at(specs.get(name).target());
                if (there.isPresent() && o.is(there.get())) {
                    statuses.put(name, statuses.get(name).in(machine.mounted(state(name), Optional.of(o),
                            "mounted by the agent before its restart: " + there.get().describe(), now)));
                }
            }
        } catch (IOException | RuntimeException e) {
            Log.warnf("Ignoring %s (%s): mounts found there are treated as not the agent's", ownedFile.get(),
                    e.getMessage());
        }
    }

    private void saveOwned() {
        if (ownedFile.isEmpty()) {
            return;
        }
        Path file = ownedFile.get();
        Properties p = new Properties();
        statuses.forEach((name, s) -> s.state().owner().ifPresent(o -> p.setProperty(name, o.mountId() + " "
                + o.device())));
        try {
            java.io.StringWriter text = new java.io.StringWriter();
            p.store(text, "mounts made by binhost-agent: name = mount id and device");
            DurableFile.replace(file, text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            Log.warnf("Cannot record the agent's mounts in %s: %s; after a restart they count as not the agent's",
                    file, e.getMessage());
        }
    }

    /** Copies of the state for tests and the status section. */
    Map<String, Integer> ownedIds() {
        Map<String, Integer> m = new TreeMap<>();
        statuses.forEach((k, v) -> v.state().owner().ifPresent(o -> m.put(k, o.mountId())));
        return m;
    }

    List<String> names() {
        return new ArrayList<>(specs.keySet());
    }

    /** The agent is stopping: its gauges go with it (see {@link OwnedMeters}). */
    @PreDestroy
    void removeGauges() {
        gauges.removeAll();
    }
}
