package dev.binhost.agent.emerge;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.Checks;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/** When and how the agent runs emerge, what it refuses, and where it reports. */
@ConfigMapping(prefix = "binhost.update")
public interface UpdateConfig extends Checked {
    /** Quartz-style cron (seconds first) of scheduled runs; default nightly at 03:30. */
    @WithDefault("0 30 3 * * ?")
    String cron();

    /** Random delay 0..this after each cron time, so a fleet does not hit the master at once. */
    @WithDefault("30m")
    Duration randomDelay();

    /** Run once when a scheduled run was missed (machine off, master down), as soon as conditions allow. */
    @WithDefault("true")
    boolean catchUp();

    /** How often a missed or blocked run is retried while its preconditions keep failing. */
    @WithDefault("10m")
    Duration retryInterval();

    /** The program (and leading arguments) to run as emerge. */
    @WithDefault("/usr/bin/emerge")
    List<String> emergeCommand();

    /** emerge's arguments: the seed's command line without --ask. */
    @WithDefault("--usepkg,--update,--deep,--changed-use,--with-bdeps,y,@world")
    List<String> emergeArgs();

    /** apply: install the plan; notify-only: plan and report, never install. */
    @WithDefault("apply")
    Mode mode();

    /** off; refuse: refuse a run that would compile anything; usepkgonly: add --usepkgonly (binaries only). */
    @WithDefault("off")
    BinariesOnly binariesOnly();

    /** Most packages a run may compile locally; -1 for no limit. */
    @WithDefault("-1")
    int maxLocalBuilds();

    /** Atoms never touched by the agent, passed as --exclude. */
    Optional<List<String>> exclude();

    /**
     * The slave's make.conf (file or directory), with {@code make.profile} beside it: PKGDIR (where the master's
     * {@code Packages} index is read), CHOST, ACCEPT_CHOSTS, ARCH and EMERGE_DEFAULT_OPTS, for the reasons of
     * local builds.
     */
    @WithDefault("/etc/portage/make.conf")
    Path makeConf();

    /**
     * How a run gets its plan: one-pass (one emerge with {@code --ask} on a pseudo-terminal, answered after the
     * policy decided on the plan it printed: one dependency resolution, and the run installs the plan approved)
     * or pretend-then-run (emerge {@code --pretend}, then the real run: two resolutions). one-pass falls back to
     * pretend-then-run when its protocol fails, and the run's record says why.
     */
    @WithDefault("one-pass")
    Resolution resolution();

    /** Deadline of the plan: the --pretend run, or the time until emerge --ask asks. */
    @WithDefault("15m")
    Duration planDeadline();

    /**
     * Deadline of the real run (one-pass: from the answer); past it emerge is ended (SIGTERM, grace, SIGKILL of
     * the tree).
     */
    @WithDefault("6h")
    Duration runDeadline();

    /** After an interrupted run (agent or machine stopped mid-run), run {@code emerge --resume} on next start. */
    @WithDefault("false")
    boolean resumeInterrupted();

    @WithDefault("/sys/class/power_supply")
    Path powerSupplyDir();

    /**
     * The root whose Portage records tell what a run did: {@code var/db/pkg}, {@code var/log/emerge.log} and
     * {@code var/cache/edb/mtimedb} under it. "/" on a real slave; tests point it at a tree of their own.
     */
    @WithDefault("/")
    Path eroot();

    /** On battery: run (ignore power), skip, or binaries-only (adds --usepkgonly). */
    @WithDefault("skip")
    OnBattery onBattery();

    /** Skip a run while the 1-minute load average is above this; unset for no limit. */
    OptionalDouble maxLoad();

    /** A command run after each run with the run's summary JSON on stdin. */
    Optional<List<String>> notifyCommand();

    @WithDefault("failure")
    NotifyOn notifyOn();

    @WithDefault("30s")
    Duration notifyDeadline();

    /** Runs kept in the history file. */
    @WithDefault("500")
    int historyKeep();

    /** What a run does with its plan. */
    enum Mode { APPLY, NOTIFY_ONLY }

    /** How a run resolves its plan: {@code one-pass}, {@code pretend-then-run}. */
    enum Resolution { ONE_PASS, PRETEND_THEN_RUN }

    /** The binaries-only rule. */
    enum BinariesOnly { OFF, REFUSE, USEPKGONLY }

    /** Power policy. */
    enum OnBattery { RUN, SKIP, BINARIES_ONLY }

    /** When the notify command runs: after every run, only after failures, or when something was installed or failed. */
    enum NotifyOn { ALWAYS, FAILURE, CHANGE }

    @Override
    default List<String> problems() {
        List<String> p = new ArrayList<>();
        try {
            new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ)).parse(cron()).validate();
        } catch (IllegalArgumentException e) {
            p.add("binhost.update.cron: not a cron expression (seconds minutes hours day month weekday), was '"
                    + cron() + "': " + e.getMessage());
        }
        Checks.notNegative(p, "binhost.update.random-delay", randomDelay());
        Checks.positive(p, "binhost.update.retry-interval", retryInterval());
        Checks.positive(p, "binhost.update.plan-deadline", planDeadline());
        Checks.positive(p, "binhost.update.run-deadline", runDeadline());
        Checks.positive(p, "binhost.update.notify-deadline", notifyDeadline());
        Checks.atLeast(p, "binhost.update.max-local-builds", maxLocalBuilds(), -1);
        Checks.atLeast(p, "binhost.update.history-keep", historyKeep(), 1);
        if (emergeCommand().isEmpty() || emergeCommand().get(0).isBlank()) {
            p.add("binhost.update.emerge-command: must name the emerge program");
        }
        for (String arg : emergeArgs()) {
            if (arg.equals("--ask") || arg.equals("-a") || arg.startsWith("--ask=")) {
                p.add("binhost.update.emerge-args: must not contain " + arg + ": nobody answers an unattended run");
            }
            if (arg.equals("--pretend") || arg.equals("-p")) {
                p.add("binhost.update.emerge-args: must not contain " + arg + ": the agent adds it for the plan");
            }
        }
        maxLoad().ifPresent(l -> {
            if (!(l > 0)) {
                p.add("binhost.update.max-load: must be a positive number, was " + l);
            }
        });
        exclude().ifPresent(atoms -> atoms.forEach(a -> {
            if (a.isBlank() || a.startsWith("-") || a.contains(" ")) {
                p.add("binhost.update.exclude: '" + a + "' is not a package atom");
            }
        }));
        notifyCommand().ifPresent(c -> {
            if (c.isEmpty() || c.get(0).isBlank()) {
                p.add("binhost.update.notify-command: is set but names no program");
            }
        });
        return p;
    }
}
