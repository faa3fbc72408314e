package dev.binhost.agent.sync;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.Checks;
import dev.binhost.agent.config.OwnedDir;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/** How the master's 01* portage configuration is pulled, checked and applied to this slave. */
@ConfigMapping(prefix = "binhost.sync")
public interface SyncConfig extends Checked {
    /** The live portage configuration the pull writes into. */
    @WithDefault("/etc/portage")
    Path portageDir();

    /**
     * Where rsync mirrors the master's filtered tree before it is checked. Unset: a hidden sibling of the portage
     * dir ({@code /etc/.portage.binhost-staging}), which keeps it on the same filesystem and out of portage's sight.
     */
    Optional<Path> stagingDir();

    /** Where the previous 01* set is kept for {@code rollback-config}. Unset: {@code <state-dir>/config-backup}. */
    Optional<Path> backupDir();

    /** The rsync program, with any wrapper in front of it (tests run it inside a network namespace). */
    @WithDefault("rsync")
    List<String> rsyncCommand();

    /** Pull on this schedule; 0 turns the schedule off (pulls still run on master UP, before runs, on demand). */
    @WithDefault("1h")
    Duration interval();

    /** Random extra delay (0..jitter) before each scheduled pull, so a fleet does not pull at once. */
    @WithDefault("5m")
    Duration jitter();

    /** Pull when the master watch declares the master UP. */
    @WithDefault("true")
    boolean pullOnMasterUp();

    /** Hard bound of one rsync call; the runner kills rsync then, whatever rsync's own timeouts think. */
    @WithDefault("2m")
    Duration deadline();

    /** rsync --contimeout: how long the connect to the master's daemon may take. */
    @WithDefault("10s")
    Duration connectTimeout();

    /** rsync --timeout: I/O silence after which rsync gives up by itself (the deadline is the real bound). */
    @WithDefault("30s")
    Duration ioTimeout();

    /** Remove 01* files (and env/ files) the master no longer has. */
    @WithDefault("true")
    boolean delete();

    /** Accept a pull that would leave no 01* file at all (normally a sign of an empty or wrong module). */
    @WithDefault("false")
    boolean allowEmpty();

    /** A master file larger than this is refused. */
    @WithDefault("8M")
    String maxFileSize();

    /** A master tree whose files add up to more than this is refused (checked on the staged tree). */
    @WithDefault("64M")
    String maxTotalSize();

    /** More files than this in the master's filtered tree are refused. */
    @WithDefault("20000")
    int maxFiles();

    /** Readiness and the "config-fresh" precondition want a successful pull younger than this. */
    @WithDefault("26h")
    Duration maxAge();

    /** Block update runs when the config is not fresh (else the run only logs it). */
    @WithDefault("true")
    boolean requireFresh();

    /** Separate-tree arrangement: a command to run after each successful pull, e.g. {@code emerge --sync -q}. */
    Optional<List<String>> treeSyncCommand();

    /** Deadline of the tree sync command. */
    @WithDefault("30m")
    Duration treeSyncDeadline();

    /** {@link #maxFileSize()} in bytes. */
    default long maxFileBytes() {
        return Sizes.parse(maxFileSize());
    }

    /** {@link #maxTotalSize()} in bytes. */
    default long maxTotalBytes() {
        return Sizes.parse(maxTotalSize());
    }

    @Override
    default List<OwnedDir.Use> paths(AgentConfig agent) {
        Path live = portageDir().toAbsolutePath().normalize();
        // The default staging dir's name is the agent's; one left by an older agent (no marker) is taken over.
        Predicate<Set<String>> staging = stagingDir().isEmpty() ? names -> true : OwnedDir.NOTHING_ELSE;
        return List.of(OwnedDir.Use.of("binhost.sync.portage-dir", live, OwnedDir.Kind.LIVE),
                new OwnedDir.Use("binhost.sync.staging-dir", stagingDir().orElseGet(() ->
                        ConfigPull.defaultStaging(live)), OwnedDir.Kind.OWNED, staging),
                new OwnedDir.Use("binhost.sync.backup-dir", backupDir().orElseGet(() ->
                        agent.stateDir().resolve("config-backup")), OwnedDir.Kind.OWNED, ConfigPull.LEGACY_BACKUP));
    }

    @Override
    default List<String> problems() {
        List<String> p = new ArrayList<>();
        stagingDir().ifPresent(s -> {
            if (s.toAbsolutePath().normalize().startsWith(portageDir().toAbsolutePath().normalize())) {
                p.add("binhost.sync.staging-dir: must not lie inside binhost.sync.portage-dir (" + portageDir()
                        + "), portage would read it; was " + s);
            }
        });
        if (rsyncCommand().isEmpty() || rsyncCommand().get(0).isBlank()) {
            p.add("binhost.sync.rsync-command: must name the rsync program");
        }
        // The apply step hard-links staged files into the live tree; rsync must replace staged files by
        // rename, never write them in place, or it would change live files before they are checked.
        rsyncCommand().stream().filter(a -> a.equals("--inplace") || a.startsWith("--append")).findFirst()
                .ifPresent(a -> p.add("binhost.sync.rsync-command: must not contain " + a
                        + " (staged files are linked into /etc/portage and must never be written in place)"));
        Checks.notNegative(p, "binhost.sync.interval", interval());
        Checks.notNegative(p, "binhost.sync.jitter", jitter());
        Checks.positive(p, "binhost.sync.deadline", deadline());
        Checks.positive(p, "binhost.sync.connect-timeout", connectTimeout());
        Checks.positive(p, "binhost.sync.io-timeout", ioTimeout());
        if (connectTimeout().compareTo(deadline()) >= 0) {
            p.add("binhost.sync.connect-timeout: must be shorter than binhost.sync.deadline (" + deadline()
                    + "), was " + connectTimeout());
        }
        try {
            if (Sizes.parse(maxFileSize()) < 1) {
                p.add("binhost.sync.max-file-size: must be at least 1 byte, was " + maxFileSize());
            }
        } catch (IllegalArgumentException e) {
            p.add("binhost.sync.max-file-size: " + e.getMessage());
        }
        try {
            if (Sizes.parse(maxTotalSize()) < 1) {
                p.add("binhost.sync.max-total-size: must be at least 1 byte, was " + maxTotalSize());
            }
        } catch (IllegalArgumentException e) {
            p.add("binhost.sync.max-total-size: " + e.getMessage());
        }
        Checks.atLeast(p, "binhost.sync.max-files", maxFiles(), 1);
        Checks.positive(p, "binhost.sync.max-age", maxAge());
        Checks.positive(p, "binhost.sync.tree-sync-deadline", treeSyncDeadline());
        treeSyncCommand().ifPresent(c -> {
            if (c.isEmpty() || c.get(0).isBlank()) {
                p.add("binhost.sync.tree-sync-command: must name a program when set");
            }
        });
        return p;
    }
}
