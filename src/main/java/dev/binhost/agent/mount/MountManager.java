package dev.binhost.agent.mount;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.metrics.OwnedMeters;
import dev.binhost.agent.mount.MountConfig.MountSpec;
import dev.binhost.agent.mount.MountStatus.Phase;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.state.DurableFile;
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
    private final Map<String, MountSpec> specs = new TreeMap<>();
    private final Map<String, MountStatus> states = new ConcurrentHashMap<>();
    /** name → what the agent mounted: mount id and device, so a reused id is not mistaken for ours. */
    private final Map<String, Owned> owned = new ConcurrentHashMap<>();
    private final Map<String, Instant> retryAt = new ConcurrentHashMap<>();
    private final Map<String, Instant> probeDueAt = new ConcurrentHashMap<>();

    @Inject
    public MountManager(MountConfig config, ProcessRunner runner, MeterRegistry registry, Clock clock,
            EmergeGuard guard, AgentConfig agent) {
        this(config, runner, registry, clock, guard, Optional.of(agent.stateDir().resolve("mounts-owned.properties")));
    }

    public MountManager(MountConfig config, ProcessRunner runner, MeterRegistry registry, Clock clock,
            EmergeGuard guard, Optional<Path> ownedFile) {
        this.config = config;
        this.runner = runner;
        this.registry = registry;
        this.gauges = new OwnedMeters(registry);
        this.clock = clock;
        this.guard = guard;
        this.ownedFile = ownedFile;
        specs.putAll(config.mounts());
        Instant now = clock.instant();
        specs.forEach((name, spec) -> {
            states.put(name, MountStatus.initial(name, spec.target(), now));
            gauges.add(Gauge.builder("binhost.mount.up", states, s -> s.get(name).healthy() ? 1 : 0)
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
        return specs.keySet().stream().map(states::get).toList();
    }

    public MountStatus status(String name) {
        return states.get(name);
    }

    /** The current mount table; reading it never blocks on a mounted file system. */
    public MountTable table() throws IOException {
        return MountTable.parse(Files.readString(config.mountinfo()));
    }

    /** Mounts every configured mount now (the master came up). */
    public synchronized void mountAll() {
        for (String name : specs.keySet()) {
            retryAt.remove(name);
            MountStatus s = states.get(name);
            if (s.releasePending()) {
                states.put(name, s.pending(false, "release cancelled: the master is back"));
            }
            mount(name);
        }
    }

    /** Releases every mount the agent made (the master went down and the policy says release). */
    public synchronized void releaseAll(String why) {
        for (String name : specs.keySet()) {
            release(name, why, false);
        }
    }

    /** One round of the watch: finish deferred releases, mount what is due, probe what is due. */
    public synchronized void reconcile(boolean masterUp) {
        Instant now = clock.instant();
        for (String name : specs.keySet()) {
            MountStatus s = states.get(name);
            if (s.releasePending()) {
                boolean forStale = s.phase() == Phase.STALE;
                if (masterUp && !forStale) {
                    states.put(name, s.pending(false, "release cancelled: the master is back"));
                } else {
                    release(name, s.detail(), forStale);
                }
            } else if (masterUp && !owned.containsKey(name) && s.phase() != Phase.MOUNTED
                    && !now.isBefore(retryAt.getOrDefault(name, Instant.MIN))) {
                mount(name);
            } else if (s.phase() == Phase.MOUNTED && !now.isBefore(probeDueAt.getOrDefault(name, Instant.MIN))) {
                probe(name);
            }
        }
    }

    /** Mounts one configured mount unless it is there already; the status says what happened and why. */
    public synchronized MountStatus mount(String name) {
        MountSpec spec = spec(name);
        Path target = spec.target();
        Instant now = clock.instant();
        MountTable table;
        try {
            table = table();
        } catch (IOException | IllegalArgumentException e) {
            return error(name, "cannot read the mount table " + config.mountinfo() + ": " + e.getMessage());
        }
        Optional<MountEntry> there = table.at(target);
        Owned mine = owned.get(name);
        if (there.isPresent()) {
            MountEntry e = there.get();
            if (mine != null && mine.is(e)) {
                return states.get(name);
            }
            if (mine != null) {
                return error(name, target + " now shows " + e.describe() + " on top of the agent's mount (id "
                        + mine.mountId() + "); someone else mounted over it, the agent leaves both alone");
            }
            if (matches(spec, e, table)) {
                put(name, states.get(name).with(Phase.MOUNTED, false, "mounted outside the agent: "
                        + e.describe() + "; used as is and never unmounted by the agent", now));
                return probe(name);
            }
            return error(name, "mount point " + target + " already holds " + e.describe() + ", not "
                    + (spec.fstab() ? "the /etc/fstab entry" : spec.source().orElse("?") + " ("
                    + spec.effectiveType() + ")") + "; the agent does not mount over it. Unmount it or change "
                    + "binhost.mount.mounts." + name + ".target");
        }
        if (mine != null) {
            forget(name);
        }
        if (!Files.isDirectory(target)) {
            return error(name, "mount point " + target + (Files.exists(target) ? " is not a directory"
                    : " does not exist") + "; create it (mkdir -p " + target + ") or change binhost.mount.mounts."
                    + name + ".target");
        }
        CommandResult r = run("mount", mountArgv(spec));
        if (!r.succeeded()) {
            retryAt.put(name, now.plus(config.retryInterval()));
            return error(name, "`" + String.join(" ", mountArgv(spec)) + "` failed: "
                    + (r.timedOut() ? "no answer within " + config.commandTimeout() : r.lastLine()));
        }
        Optional<MountEntry> mounted;
        try {
            mounted = table().at(target);
        } catch (IOException | IllegalArgumentException e) {
            return error(name, "mounted, but cannot read the mount table: " + e.getMessage());
        }
        if (mounted.isEmpty()) {
            return error(name, "mount reported success but " + target + " is not in " + config.mountinfo());
        }
        owned.put(name, new Owned(mounted.get().mountId(), mounted.get().device()));
        saveOwned();
        Log.infof("Mounted %s at %s: %s", name, target, mounted.get().describe());
        put(name, states.get(name).with(Phase.MOUNTED, true, "mounted by the agent: " + mounted.get().describe(),
                now));
        return probe(name);
    }

    /**
     * Unmounts one mount if the agent mounted it and no emerge runs; a busy mount is detached lazily
     * ({@code umount -l}), and {@code lazyOnly} goes straight there (a stale mount may hang a plain umount).
     */
    public synchronized MountStatus release(String name, String why, boolean lazyOnly) {
        MountSpec spec = spec(name);
        MountStatus s = states.get(name);
        Owned mine = owned.get(name);
        if (mine == null) {
            Log.debugf("Not releasing %s: the agent did not mount what is at %s", name, spec.target());
            return s;
        }
        Optional<String> emerge = guard.emergeRunning();
        if (emerge.isPresent()) {
            // Each watch round comes back here while emerge runs (hours) with the detail of the last deferral as
            // its reason: strip that, and log and count only when what blocks the release changes.
            String deferred = "; release deferred: ";
            String reason = why.contains(deferred) ? why.substring(0, why.indexOf(deferred)) : why;
            String detail = reason + deferred + emerge.get();
            if (s.releasePending() && s.detail().equals(detail)) {
                return s;
            }
            count("umount", "deferred");
            Log.infof("Release of %s (%s) deferred: %s", name, reason, emerge.get());
            return put(name, s.pending(true, detail));
        }
        MountTable table;
        try {
            table = table();
        } catch (IOException | IllegalArgumentException e) {
            return put(name, s.pending(true, why + "; release waits: cannot read the mount table: "
                    + e.getMessage()));
        }
        Optional<MountEntry> there = table.at(spec.target());
        if (there.isEmpty() || !mine.is(there.get())) {
            boolean stillSomewhere = table.byId(mine.mountId()).filter(mine::is).isPresent();
            if (stillSomewhere) {
                return put(name, s.pending(false, "not released: another mount covers the agent's mount at "
                        + spec.target() + "; the agent does not unmount what it did not mount"));
            }
            forget(name);
            return put(name, s.with(Phase.NOT_MOUNTED, false, "unmounted outside the agent", clock.instant())
                    .pending(false, "unmounted outside the agent"));
        }
        boolean released = false;
        if (!lazyOnly) {
            CommandResult plain = run("umount", List.of("umount", spec.target().toString()));
            released = plain.succeeded();
            if (!released) {
                Log.infof("umount %s failed (%s); detaching it lazily", spec.target(),
                        plain.timedOut() ? "timed out" : plain.lastLine());
            }
        }
        String how = "released";
        if (!released) {
            CommandResult lazy = run("umount-lazy", List.of("umount", "-l", spec.target().toString()));
            released = lazy.succeeded();
            how = "released lazily";
            if (!released) {
                return put(name, s.pending(true, why + "; umount -l " + spec.target() + " failed: "
                        + (lazy.timedOut() ? "timed out" : lazy.lastLine())));
            }
        }
        forget(name);
        Phase after = s.phase() == Phase.STALE ? Phase.STALE : Phase.NOT_MOUNTED;
        Log.infof("%s %s (%s)", how, spec.target(), why);
        return put(name, s.with(after, false, how + ": " + why, clock.instant()).pending(false, how + ": " + why));
    }

    /**
     * Asks a child process whether the mount answers ({@code stat -f}, which always reaches the server). A
     * timeout or an error (ESTALE, ENOTCONN) makes the mount stale: reported, and released lazily.
     */
    public synchronized MountStatus probe(String name) {
        MountSpec spec = spec(name);
        Instant now = clock.instant();
        probeDueAt.put(name, now.plus(config.probeInterval()));
        MountStatus s = states.get(name);
        Optional<MountEntry> there;
        try {
            there = table().at(spec.target());
        } catch (IOException | IllegalArgumentException e) {
            return error(name, "cannot read the mount table: " + e.getMessage());
        }
        Owned mine = owned.get(name);
        if (there.isEmpty()) {
            if (mine != null) {
                forget(name);
            }
            return put(name, s.with(Phase.NOT_MOUNTED, false, "not mounted (unmounted outside the agent?)", now));
        }
        CommandResult r = runProbe(spec.target());
        String outcome = r.succeeded() ? "ok" : r.timedOut() ? "timeout" : "error";
        Timer.builder("binhost.mount.probe.duration")
                .description("Time the health probe of a mount took (a child process with a deadline)")
                .tag("mount", name).tag("outcome", outcome)
                .register(registry).record(r.took());
        s = s.probed(now, r.took());
        if (r.succeeded()) {
            if (s.phase() != Phase.MOUNTED) {
                s = s.with(Phase.MOUNTED, mine != null, "answers again", now);
            }
            return put(name, s);
        }
        String why = r.timedOut()
                ? "stale: the probe got no answer within " + config.probeTimeout() + " (server dead or frozen?)"
                : "stale: the probe failed: " + r.lastLine();
        Log.warnf("Mount %s at %s is %s", name, spec.target(), why);
        retryAt.put(name, now.plus(config.retryInterval()));
        put(name, s.with(Phase.STALE, mine != null, why, now));
        return release(name, why, true);
    }

    /** Probe one target in a child process; tests call it to probe paths that are not configured mounts. */
    CommandResult runProbe(Path target) {
        return runCommand(Command.of("mount-probe", "stat", "-f", "-c", "%T", "--", target.toString())
                .deadline(config.probeTimeout()).build());
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

    private MountStatus error(String name, String detail) {
        Log.errorf("Mount %s: %s", name, detail);
        retryAt.put(name, clock.instant().plus(config.retryInterval()));
        return put(name, states.get(name).with(Phase.ERROR, owned.containsKey(name), detail, clock.instant()));
    }

    private MountStatus put(String name, MountStatus s) {
        states.put(name, s);
        return s;
    }

    private void forget(String name) {
        owned.remove(name);
        saveOwned();
    }

    /** What the agent mounted: mountinfo's id (unique while mounted) and device (tells a reused id apart). */
    private record Owned(int mountId, String device) {
        boolean is(MountEntry e) {
            return e.mountId() == mountId && e.device().equals(device);
        }
    }

    private void loadOwned() {
        if (ownedFile.isEmpty() || !Files.isRegularFile(ownedFile.get())) {
            return;
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(ownedFile.get())) {
            p.load(in);
            MountTable table = table();
            for (String name : specs.keySet()) {
                String v = p.getProperty(name);
                if (v == null) {
                    continue;
                }
                String[] parts = v.split(" ", 2);
                Owned o = new Owned(Integer.parseInt(parts[0]), parts[1]);
                Optional<MountEntry> there = table.at(specs.get(name).target());
                if (there.isPresent() && o.is(there.get())) {
                    owned.put(name, o);
                    states.put(name, states.get(name).with(Phase.MOUNTED, true,
                            "mounted by the agent before its restart: " + there.get().describe(), clock.instant()));
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
        owned.forEach((name, o) -> p.setProperty(name, o.mountId() + " " + o.device()));
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
        owned.forEach((k, v) -> m.put(k, v.mountId()));
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
