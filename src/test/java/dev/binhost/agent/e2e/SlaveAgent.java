package dev.binhost.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.binhost.agent.testing.Sh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built agent as installed, running in the slave's network namespace and in a private mount namespace of its
 * own ({@code ip netns exec SLAVE unshare -m --propagation private java -jar quarkus-run.jar}), with a real
 * config file, state and log directories under the rig's root. Health and metrics are read with curl from inside
 * the slave namespace, where the agent listens on loopback as it does on a real slave.
 */
final class SlaveAgent implements AutoCloseable {
    static final int HTTP_PORT = 9873;
    private static final ObjectMapper JSON = new ObjectMapper();

    final Path configFile;
    final Path stateDir;
    final Path logDir;
    final Path output;
    private final Rig rig;
    private final Process process;
    private final long jvmPid;

    private SlaveAgent(Rig rig, Path configFile, Path output, Process process, long jvmPid, Path stateDir,
            Path logDir) {
        this.jvmPid = jvmPid;
        this.rig = rig;
        this.configFile = configFile;
        this.output = output;
        this.process = process;
        this.stateDir = stateDir;
        this.logDir = logDir;
    }

    /** The keys every rig agent has: this master, fast probes, paths under the rig's slave root. */
    static Map<String, String> baseConfig(Rig rig) {
        Map<String, String> c = new LinkedHashMap<>();
        Path slave = rig.root.resolve("slave");
        c.put("binhost.master.host", rig.masterIp);
        c.put("binhost.master.rsync-port", "873");
        c.put("binhost.master.nfs-check", "none");
        c.put("binhost.master.probe-interval", "500ms");
        c.put("binhost.master.probe-jitter", "0s");
        c.put("binhost.master.connect-timeout", "500ms");
        c.put("binhost.master.read-timeout", "500ms");
        c.put("binhost.master.down-after-failures", "2");
        c.put("binhost.master.up-after-successes", "1");
        c.put("binhost.agent.state-dir", slave.resolve("var/lib/binhost-agent").toString());
        c.put("binhost.agent.log-dir", slave.resolve("var/log/binhost-agent").toString());
        // The rig's own /proc: only what runs in its PID namespace (the agent, its emerge) can block a run.
        c.put("binhost.agent.proc-dir", rig.proc.toString());
        c.put("quarkus.http.port", String.valueOf(HTTP_PORT));
        // Never the host's /etc/portage or emerge: every path the agent writes or runs is the rig's.
        c.put("binhost.sync.portage-dir", slave.resolve("etc/portage").toString());
        c.put("binhost.sync.deadline", "6s");
        c.put("binhost.sync.connect-timeout", "1s");
        c.put("binhost.sync.io-timeout", "3s");
        c.put("binhost.control.socket", slave.resolve("run/binhost-agent/control.sock").toString());
        c.put("binhost.update.emerge-command", AgentJar.BASE.resolve("src/test/resources/standin/emerge-standin.sh")
                + "," + slave.resolve("emerge-scenario.sh"));
        // the rig's scenarios are PRETEND/MERGE fixtures: the two-pass path (one-pass: AskedEmergeTest, UpdateRunnerTest)
        c.put("binhost.update.resolution", "pretend-then-run");
        // after each run: tools that replay the harness slave with nothing pending; none of this machine's
        String tool = AgentJar.BASE.resolve("src/test/resources/standin/tool-standin.sh") + ","
                + AgentJar.BASE.resolve("src/test/resources/standin/demo-followup.case") + ","
                + AgentJar.BASE.resolve("src/test/resources/fixtures/followup") + ",";
        c.put("binhost.followup.portageq-command", tool + "portageq");
        c.put("binhost.followup.glsa-check-command", tool + "glsa-check");
        c.put("binhost.followup.needrestart-command", slave.resolve("no-needrestart").toString());
        // no depclean: the rig's tests count the emerge calls of a run (plan, merge)
        c.put("binhost.followup.depclean", "false");
        c.put("binhost.update.cron", "0 30 3 * * ?");
        c.put("binhost.update.random-delay", "0s");
        c.put("binhost.update.retry-interval", "2s");
        c.put("binhost.update.power-supply-dir", slave.resolve("sys/class/power_supply").toString());
        return c;
    }

    /**
     * The keys of a whole slave on top of {@link #baseConfig}: the master's PKGDIR export mounted with bindfs (the
     * NFS stand-in) when the master is UP, and update runs with the stand-in emerge replaying {@code pretend} and
     * {@code merge} fixtures (a line every {@code lineDelay} seconds), a nightly cron and catch-up.
     */
    static Map<String, String> slaveConfig(Rig rig, String pretend, String merge, String lineDelay)
            throws IOException {
        Map<String, String> c = baseConfig(rig);
        Path slave = rig.root.resolve("slave");
        Files.createDirectories(slave.resolve("var/cache/binpkgs"));
        Files.createDirectories(slave.resolve("etc/portage"));
        Files.createDirectories(slave.resolve("sys/class/power_supply"));
        MasterTree.writeSlave(slave.resolve("etc/portage"));
        c.put("binhost.mount.mounts.packages.target", slave.resolve("var/cache/binpkgs").toString());
        c.put("binhost.mount.mounts.packages.source", rig.masterPkgdir.toString());
        c.put("binhost.mount.mounts.packages.type", "fuse.bindfs");
        c.put("binhost.mount.mounts.packages.options", "ro");
        c.put("binhost.mount.probe-interval", "1s");
        c.put("binhost.mount.probe-timeout", "500ms");
        c.put("binhost.mount.retry-interval", "2s");
        c.put("binhost.mount.command-timeout", "10s");
        c.put("binhost.mount.make-conf", slave.resolve("etc/portage/make.conf").toString());
        c.put("binhost.update.make-conf", slave.resolve("etc/portage/make.conf").toString());
        Path scenario = slave.resolve("emerge-scenario.sh");
        Path fixtures = AgentJar.BASE.resolve("src/test/resources/fixtures/emerge");
        // Portage's records (emerge.log, /var/db/pkg) of the replayed run go under the slave's own root
        Path eroot = slave.resolve("eroot");
        c.put("binhost.update.eroot", eroot.toString());
        String records = dev.binhost.agent.emerge.Fixtures.sessionLog(dev.binhost.agent.emerge.Fixtures.entry(merge))
                .map(log -> "\nEROOT=" + eroot + "\nMERGE_LOG=" + log).orElse("");
        Files.writeString(scenario, "PRETEND=" + fixtures.resolve(pretend) + "\nMERGE=" + fixtures.resolve(merge)
                + "\nLINE_DELAY=" + lineDelay + "\nARGS_LOG=" + emergeCalls(rig) + records + "\n");
        return c;
    }

    /** Where the stand-in emerge writes the arguments of each call, one line per call. */
    static Path emergeCalls(Rig rig) {
        return rig.root.resolve("slave/emerge-calls.log");
    }

    /** Marks the nightly run as missed: the last run was yesterday, so catch-up owes one at start. */
    static void lastRunYesterday(Map<String, String> config) throws IOException {
        Path state = Path.of(config.get("binhost.agent.state-dir"));
        Files.createDirectories(state);
        Files.writeString(state.resolve("last-run"), java.time.Instant.now().minus(Duration.ofDays(1)) + "\n");
    }

    /** Writes the config file and starts the agent; {@code jvmOptions} go before {@code -jar}. */
    static SlaveAgent start(Rig rig, Map<String, String> config, List<String> jvmOptions)
            throws IOException {
        return start(rig, config, jvmOptions, null);
    }

    /**
     * Like {@link #start(Rig, Map, List)}; {@code mountSetup}, when given, is a shell line run inside the agent's
     * new mount namespace before the JVM replaces the shell (e.g. a tiny tmpfs on the state directory).
     */
    static SlaveAgent start(Rig rig, Map<String, String> config, List<String> jvmOptions, String mountSetup)
            throws IOException {
        Path etc = rig.root.resolve("slave/etc/binhost-agent");
        Files.createDirectories(etc);
        Path configFile = etc.resolve("binhost-agent.properties");
        StringBuilder text = new StringBuilder("# written by the end-to-end rig\n");
        config.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(configFile, text);
        Path stateDir = Path.of(config.get("binhost.agent.state-dir"));
        Path logDir = Path.of(config.get("binhost.agent.log-dir"));
        Files.createDirectories(stateDir);
        Files.createDirectories(logDir);
        Path output = rig.root.resolve("slave/agent-" + System.nanoTime() + ".out");
        List<String> argv = new ArrayList<>(rig.inPidNamespace());
        argv.addAll(List.of("ip", "netns", "exec", rig.slaveNs, "unshare", "-m", "--propagation", "private"));
        if (mountSetup != null) {
            // exec keeps the PID: the Process is still the agent's JVM.
            argv.addAll(List.of("sh", "-c", mountSetup + " && exec \"$@\"", "agent"));
        }
        argv.add(AgentJar.java());
        argv.addAll(jvmOptions);
        argv.addAll(List.of("-jar", AgentJar.ensureBuilt().toString()));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().put("BINHOST_AGENT_CONFIG", configFile.toString());
        // nsenter forks into the PID namespace and waits; ip netns exec and unshare (without --fork) exec in
        // place, so nsenter's one child is the agent's JVM.
        Process nsenter = pb.start();
        long jvm = 0;
        for (int i = 0; i < 500 && jvm == 0 && nsenter.isAlive(); i++) {
            List<Long> children = Rig.childrenOf(nsenter.pid());
            if (children.isEmpty()) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while starting the agent", e);
                }
            } else {
                jvm = children.get(0);
            }
        }
        if (jvm == 0) {
            nsenter.destroyForcibly();
            throw new IOException("the agent did not start: " + Files.readString(output));
        }
        return new SlaveAgent(rig, configFile, output, nsenter, jvm, stateDir, logDir);
    }

    /** A key of the config file the agent was started with. */
    String configValue(String key) throws IOException {
        java.util.Properties p = new java.util.Properties();
        try (var in = Files.newBufferedReader(configFile)) {
            p.load(in);
        }
        return p.getProperty(key);
    }

    /** The agent JVM's PID on the host (it is not PID 1 of the rig's namespace, the holder is). */
    long pid() {
        return jvmPid;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** An HTTP answer: status code and body. */
    record Answer(int status, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        /** The named check of a health answer, or a missing node. */
        JsonNode check(String name) {
            for (JsonNode c : json().path("checks")) {
                if (name.equals(c.path("name").asText())) {
                    return c;
                }
            }
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
    }

    /** GET from inside the slave namespace; status 0 when nothing answered. */
    Answer get(String path) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "exec", rig.slaveNs, "curl", "-s", "-m", "5",
                "-w", "\n%{http_code}", "http://127.0.0.1:" + HTTP_PORT + path)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        int nl = out.lastIndexOf('\n');
        int status = Integer.parseInt(out.substring(nl + 1).strip());
        return new Answer(status, nl < 0 ? "" : out.substring(0, nl));
    }

    /** The value of a Prometheus sample line starting with {@code series} (name and labels), or NaN. */
    double metric(String series) throws IOException, InterruptedException {
        return metric(get("/q/metrics").body(), series);
    }

    static double metric(String exposition, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + "(?:\\{[^}]*\\})? (\\S+)$").matcher(exposition);
        double sum = Double.NaN;
        while (m.find()) {
            double v = Double.parseDouble(m.group(1));
            sum = Double.isNaN(sum) ? v : sum + v;
        }
        return sum;
    }

    /** What a CLI call printed and returned. */
    record CliResult(int exit, String output) {
    }

    /**
     * Runs the installed launcher's CLI ({@code deploy/bin/binhost-agent ARGS}) against this agent's config, as
     * root or, with {@code asNobody}, as the unprivileged user nobody (setpriv, uid/gid 65534).
     */
    CliResult cli(boolean asNobody, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>();
        if (asNobody) {
            argv.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        argv.add(AgentJar.BASE.resolve("deploy/bin/binhost-agent").toString());
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("BINHOST_AGENT_CONFIG", configFile.toString());
        pb.environment().put("BINHOST_AGENT_HOME", AgentJar.ensureBuilt().getParent().getParent().toString());
        pb.environment().put("BINHOST_AGENT_JAVA", AgentJar.java());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("CLI " + argv + " did not finish");
        }
        return new CliResult(p.exitValue(), out);
    }

    /** A path as the agent sees it, through its mount namespace (/proc/PID/root). */
    Path seen(Path path) {
        return Path.of("/proc/" + pid() + "/root").resolve(path.toString().substring(1));
    }

    /** The agent's mount table, read from the host (never blocks on a frozen FUSE server). */
    String mountinfo() throws IOException {
        return Files.readString(Path.of("/proc/" + pid() + "/mountinfo"));
    }

    /** The run history as the agent sees it, one JSON object per record. */
    List<JsonNode> history() throws IOException {
        Path file = seen(stateDir.resolve("history.jsonl"));
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    /** Resident set size of the agent's JVM in KiB, from /proc/PID/status. */
    long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new IOException("no VmRSS for " + pid());
    }

    /**
     * Heap in use right after a full collection, in bytes: {@code jcmd PID GC.run} (the test JVM's own jcmd,
     * the agent runs on the same JDK), then the agent's own {@code jvm_memory_used_bytes{area="heap"}}. Unlike
     * RSS, this does not rise while the collector merely has not run yet, so growth here is a leak.
     */
    double heapAfterGcBytes() throws IOException, InterruptedException {
        Sh.run("'" + Path.of(AgentJar.java()).resolveSibling("jcmd") + "' " + pid() + " GC.run");
        double heap = get("/q/metrics").body().lines()
                .filter(l -> l.startsWith("jvm_memory_used_bytes{") && l.contains("area=\"heap\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        if (heap <= 0) {
            throw new IOException("the agent exports no jvm_memory_used_bytes{area=\"heap\"}");
        }
        return heap;
    }

    /** Everything the agent printed so far. */
    String log() throws IOException {
        return Files.readString(output);
    }

    /** Lines of the agent's output matching {@code regex}. */
    long lines(String regex) throws IOException {
        Pattern p = Pattern.compile(regex);
        return log().lines().filter(l -> p.matcher(l).find()).count();
    }

    /** Waits until HTTP answers on the agent's port, or fails with the agent's output. */
    void awaitHttp(Duration timeout) throws IOException, InterruptedException {
        await(timeout, () -> {
            try {
                return get("/q/health/live").status() != 0;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }, "the agent's HTTP port to answer");
    }

    /** Polls {@code condition} every 50 ms; fails with the agent's output after {@code timeout}. */
    void await(Duration timeout, BooleanSupplier condition, String what) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (!process.isAlive()) {
                throw new AssertionError("agent exited (" + process.exitValue() + ") while waiting for " + what
                        + "\n" + log());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + "\n" + log());
            }
            Thread.sleep(50);
        }
    }

    /** SIGKILL, as the OOM killer or a power cut would; the process is gone when this returns. */
    void kill() throws InterruptedException {
        signalJvm(true);
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** nsenter passes no signal on: the JVM is signalled by its own PID. */
    private void signalJvm(boolean kill) {
        ProcessHandle.of(jvmPid).ifPresent(h -> {
            if (kill) {
                h.destroyForcibly();
            } else {
                h.destroy();
            }
        });
    }

    /** SIGTERM, then SIGKILL if it does not stop within ten seconds. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            signalJvm(false);
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                signalJvm(true);
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Convenience for scenario code that reads a check's data field. */
    static String data(JsonNode check, String key) {
        return check.path("data").path(key).asText("");
    }
}
