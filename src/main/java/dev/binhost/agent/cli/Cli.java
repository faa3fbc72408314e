package dev.binhost.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.binhost.agent.check.Preflight;
import dev.binhost.agent.followup.FollowUp;
import dev.binhost.agent.followup.Item;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.control.ControlClient;
import dev.binhost.agent.control.ControlProtocol;
import dev.binhost.agent.history.RunHistory;
import dev.binhost.agent.history.RunRecord;
import dev.binhost.agent.portage.Finding;
import dev.binhost.agent.portage.MakeConf;
import dev.binhost.agent.state.StateDir;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The admin's commands, run in the same executable before (and without) Quarkus: a client needs no server.
 * Exit codes: 0 ok, 1 findings or a refused/failed action, 2 usage, 3 agent not running, 4 permission denied,
 * 78 configuration error.
 */
public final class Cli {
    public static final int OK = 0;
    public static final int FINDINGS = 1;
    public static final int USAGE = 2;
    public static final int NOT_RUNNING = 3;
    public static final int DENIED = 4;
    public static final int CONFIG = 78;

    static final Set<String> COMMANDS = Set.of("status", "trigger", "pull-config", "rollback-config", "history",
            "check", "help", "--help", "-h");
    static final Duration TIMEOUT = Duration.ofSeconds(15);
    /** A pull answers when done; it is bounded by binhost.sync.deadline (2m by default), so wait longer. */
    static final Duration CONFIG_TIMEOUT = Duration.ofMinutes(10);

    static final String USAGE_TEXT = """
            usage: binhost-agent [run]                  start the agent (what the init script does)
                   binhost-agent status [--json]        master, mounts, config, current and last run
                   binhost-agent trigger                ask the running agent for an update run now (root)
                   binhost-agent pull-config            pull the master's config now; ends a rollback's hold (root)
                   binhost-agent rollback-config        put the previous 01* set back and hold pulls there (root)
                   binhost-agent history [--json] [-n N] the last N update runs (default 10)
                   binhost-agent check [--json] [--no-follow-up]
                                                        compare this slave with the master's pulled config, and
                                                        say what needs you (config files, preserved libraries,
                                                        news, GLSAs, restarts, orphans)
            exit codes: 0 ok, 1 findings or action refused/failed, 2 usage, 3 agent not running,
                        4 permission denied, 78 configuration error""";

    private final CliConfig config;
    private final PrintStream out;
    private final PrintStream err;
    /** What relative times in the human status count from. */
    private final Clock clock;
    private final ObjectMapper json = ControlProtocol.mapper().enable(SerializationFeature.INDENT_OUTPUT);

    public Cli(CliConfig config, PrintStream out, PrintStream err) {
        this(config, out, err, Clock.systemUTC());
    }

    public Cli(CliConfig config, PrintStream out, PrintStream err, Clock clock) {
        this.config = config;
        this.out = out;
        this.err = err;
        this.clock = clock;
    }

    /** True when the arguments name a CLI command rather than the daemon. */
    public static boolean handles(String... args) {
        return args.length > 0 && COMMANDS.contains(args[0]);
    }

    /** Entry from Main: loads the configuration, runs the command, returns the exit code. */
    public static int main(String... args) {
        CliConfig config;
        try {
            config = CliConfig.load();
        } catch (CliConfig.Invalid e) {
            System.err.println("binhost-agent: configuration error: " + e.getMessage());
            return CONFIG;
        }
        return new Cli(config, System.out, System.err).run(args);
    }

    public int run(String... args) {
        List<String> rest = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        try {
            return switch (args[0]) {
                case "status" -> status(flags(rest, Set.of("--json")));
                case "trigger" -> trigger(flags(rest, Set.of()));
                case "pull-config" -> configAction(ControlProtocol.PULL_CONFIG, flags(rest, Set.of()));
                case "rollback-config" -> configAction(ControlProtocol.ROLLBACK_CONFIG, flags(rest, Set.of()));
                case "history" -> history(rest);
                case "check" -> check(flags(rest, Set.of("--json", "--no-follow-up")));
                default -> {
                    out.println(USAGE_TEXT);
                    yield OK;
                }
            };
        } catch (UsageError e) {
            err.println("binhost-agent: " + e.getMessage());
            err.println(USAGE_TEXT);
            return USAGE;
        } catch (CliConfig.Invalid e) {
            err.println("binhost-agent: configuration error: " + e.getMessage());
            return CONFIG;
        }
    }

    private static final class UsageError extends Exception {
        UsageError(String message) {
            super(message);
        }
    }

    private static Set<String> flags(List<String> args, Set<String> allowed) throws UsageError {
        Set<String> seen = new LinkedHashSet<>();
        for (String a : args) {
            if (!allowed.contains(a)) {
                throw new UsageError("unexpected argument '" + a + "'");
            }
            seen.add(a);
        }
        return seen;
    }

    // --- status -------------------------------------------------------------------------------------------

    private int status(Set<String> flags) throws CliConfig.Invalid {
        Map<String, Object> status;
        try {
            status = new ControlClient(config.path("binhost.control.socket"), TIMEOUT).call(ControlProtocol.STATUS)
                    .status();
        } catch (ControlClient.Unreachable e) {
            if (!e.denied()) {
                err.println("binhost-agent: " + e.getMessage());
                return NOT_RUNNING;
            }
            // Not root: the socket is closed to us, but the loopback HTTP endpoint serves the same status.
            try {
                status = httpStatus();
            } catch (IOException httpFailed) {
                err.println("binhost-agent: " + e.getMessage() + "; and the HTTP status endpoint did not answer: "
                        + httpFailed.getMessage());
                return DENIED;
            }
        } catch (IOException e) {
            err.println("binhost-agent: status failed: " + e.getMessage());
            return FINDINGS;
        }
        if (flags.contains("--json")) {
            print(status);
        } else {
            out.print(StatusText.render(status, clock));
        }
        return OK;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> httpStatus() throws IOException, CliConfig.Invalid {
        String host = config.get("quarkus.http.host");
        if (host.equals("0.0.0.0") || host.isEmpty()) {
            host = "127.0.0.1";
        }
        URI uri = URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
                + config.port("quarkus.http.port") + "/status");
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        c.setConnectTimeout((int) TIMEOUT.toMillis());
        c.setReadTimeout((int) TIMEOUT.toMillis());
        try {
            if (c.getResponseCode() != 200) {
                throw new IOException(uri + " answered HTTP " + c.getResponseCode());
            }
            return (Map<String, Object>) ControlProtocol.printableValue(json.readValue(c.getInputStream(), Map.class));
        } finally {
            c.disconnect();
        }
    }

    // --- trigger ------------------------------------------------------------------------------------------

    private int trigger(Set<String> flags) {
        return act(ControlProtocol.TRIGGER, TIMEOUT, r -> describe(r.result())
                + (r.message() == null || r.message().isBlank() ? "" : ": " + r.message()));
    }

    // --- pull-config, rollback-config ----------------------------------------------------------------------

    private int configAction(String action, Set<String> flags) {
        // A pull's message starts with its outcome (applied, unchanged, failed, timed-out, refused).
        return act(action, CONFIG_TIMEOUT, r -> action.equals(ControlProtocol.PULL_CONFIG)
                ? "config pull " + r.message()
                : "config rollback " + (r.ok() ? "done: " : "not done: ") + r.message());
    }

    /**
     * Asks the running agent for an action and prints its answer ({@code render}) on stdout when it succeeded,
     * on stderr when not; the exit code says which, and whether the agent could be reached or refused the caller.
     */
    private int act(String action, Duration timeout, Function<ControlProtocol.Response, String> render) {
        ControlProtocol.Response r;
        try {
            r = new ControlClient(config.path("binhost.control.socket"), timeout).call(action);
        } catch (ControlClient.Unreachable e) {
            err.println("binhost-agent: " + e.getMessage());
            return e.denied() ? DENIED : NOT_RUNNING;
        } catch (IOException e) {
            err.println("binhost-agent: " + action + " failed: " + e.getMessage()
                    + "; the agent may still be working on it: see `binhost-agent status`");
            return FINDINGS;
        }
        if ("denied".equals(r.error())) {
            err.println("binhost-agent: refused: " + r.message());
            return DENIED;
        }
        if (r.error() != null) {
            err.println("binhost-agent: " + action + " failed (" + r.error() + "): " + r.message());
            return FINDINGS;
        }
        (r.ok() ? out : err).println(render.apply(r));
        return r.ok() ? OK : FINDINGS;
    }

    private static String describe(String result) {
        return switch (String.valueOf(result)) {
            case "QUEUED" -> "update run queued";
            case "ALREADY_QUEUED" -> "an update run was already queued";
            case "ALREADY_RUNNING" -> "an update run is already running";
            case "REFUSED" -> "update run refused";
            default -> "agent answered " + result;
        };
    }

    // --- history ------------------------------------------------------------------------------------------

    private int history(List<String> args) throws UsageError {
        boolean asJson = false;
        int n = 10;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--json")) {
                asJson = true;
            } else if (a.equals("-n") && i + 1 < args.size()) {
                try {
                    n = Integer.parseInt(args.get(++i));
                } catch (NumberFormatException e) {
                    throw new UsageError("-n needs a number, got '" + args.get(i) + "'");
                }
                if (n < 1) {
                    throw new UsageError("-n must be at least 1");
                }
            } else {
                throw new UsageError("unexpected argument '" + a + "'");
            }
        }
        Path file = new StateDir(config.path("binhost.agent.state-dir")).history();
        // The agent's own reader: the records it writes, a torn or bad line skipped with a warning naming it.
        RunHistory history = new RunHistory(file, Integer.MAX_VALUE);
        List<RunRecord> runs;
        try {
            runs = history.read();
        } catch (UncheckedIOException e) {
            err.println("binhost-agent: " + e.getMessage() + ": " + e.getCause().getMessage());
            return e.getCause() instanceof AccessDeniedException ? DENIED : FINDINGS;
        }
        List<Integer> skipped = history.skippedLines();
        if (!skipped.isEmpty()) {
            err.println("binhost-agent: skipped " + skipped.size() + " unreadable line(s) in " + file + " (line "
                    + skipped.stream().map(String::valueOf).collect(Collectors.joining(", ")) + ")");
        }
        runs = runs.subList(Math.max(0, runs.size() - n), runs.size());
        if (asJson) {
            print(runs);
        } else if (runs.isEmpty()) {
            out.println("no update runs recorded yet (" + file + ")");
        } else {
            runs.forEach(run -> out.println(RunLine.of(run)));
        }
        return OK;
    }

    // --- check --------------------------------------------------------------------------------------------

    private int check(Set<String> flags) throws CliConfig.Invalid {
        Path portage = config.path("binhost.check.portage-dir");
        Path makeConf = portage.resolve("make.conf");
        Preflight.Inputs inputs;
        try {
            List<Path> dirs = new ArrayList<>();
            for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
                if (!d.isBlank()) {
                    dirs.add(Path.of(d));
                }
            }
            dirs.addAll(List.of(Path.of("/sbin"), Path.of("/usr/sbin"), Path.of("/bin"), Path.of("/usr/bin")));
            List<String> tools = Arrays.stream(config.get("binhost.check.tools").split(","))
                    .map(String::strip).filter(s -> !s.isEmpty()).toList();
            inputs = new Preflight.Inputs(MakeConf.read(makeConf), Files.isDirectory(makeConf),
                    readOrEmpty(config.path("binhost.check.cpuinfo")),
                    readOrEmpty(config.path("binhost.check.mountinfo")),
                    effectiveUid(), Preflight.missingTools(tools, dirs));
        } catch (IOException e) {
            err.println("binhost-agent: check cannot read its inputs: " + e.getMessage());
            return FINDINGS;
        }
        List<Finding> findings = new ArrayList<>(Preflight.run(inputs));
        try {
            findings.addAll(trust(inputs));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        FollowUp followUp = flags.contains("--no-follow-up") ? null : followUp();
        if (flags.contains("--json")) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("findings", findings);
            m.put("followUp", followUp);
            print(m);
        } else {
            if (findings.isEmpty()) {
                out.println("ok: nothing to change (" + portage + ")");
            }
            for (Finding f : findings) {
                out.println(f.level() + "  " + f.topic() + ": " + f.what());
                out.println("         change: " + f.change());
            }
            if (followUp != null) {
                List<String> attention = followUp.attention();
                out.println(attention.isEmpty() ? "follow-up: nothing needs you" : "follow-up:");
                attention.forEach(a -> out.println("  " + a));
                followUp.unknown().forEach(u -> out.println("  not known: " + u));
            }
        }
        // the exit status is the config's: what an update left is reported, and counted in the agent's metrics
        return findings.stream().anyMatch(f -> f.level() == Finding.Level.PROBLEM) ? FINDINGS : OK;
    }

    /** The binhost's and the signatures' setup ({@link dev.binhost.agent.binhost.TrustCheck}). */
    private List<Finding> trust(Preflight.Inputs inputs) throws CliConfig.Invalid, InterruptedException {
        ProcessRunner runner = new ProcessRunner(dev.binhost.agent.posix.Posix.system(), java.time.Duration.ofSeconds(2), 65536);
        return dev.binhost.agent.binhost.TrustCheck.run(config.packages(),
                MakeConf.evaluate(inputs.makeConf()).values(), dev.binhost.agent.config.AgentConfigFile.location().toString(),
                runner);
    }

    /**
     * What needs the admin now (config files, preserved libraries, news, GLSAs, restarts, orphans), collected
     * here as the agent does after a run; the run's own elog and plan are in {@code status}.
     */
    private FollowUp followUp() throws CliConfig.Invalid {
        ProcessRunner runner = new ProcessRunner(dev.binhost.agent.posix.Posix.system(), java.time.Duration.ofSeconds(2), 65536);
        try {
            return config.followUps(runner).collect(null, null, Item.off("only after a run (see status)"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static String readOrEmpty(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }

    /** The effective uid from /proc/self/status ("Uid: real effective saved fs"), no native call needed. */
    static int effectiveUid() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return Integer.parseInt(line.substring(4).strip().split("\\s+")[1]);
            }
        }
        throw new IOException("/proc/self/status has no Uid line");
    }

    private void print(Object value) {
        try {
            out.println(json.writeValueAsString(value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
