package dev.binhost.agent.sync;

import dev.binhost.agent.config.OwnedDir;
import dev.binhost.agent.state.DurableFile;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;
import dev.binhost.agent.state.StateDir;
import io.quarkus.logging.Log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * One config pull, start to end: the staging filesystem's room is checked, a single rsync call mirrors the
 * master's managed files into the staging dir under a watch on the staged size, the staged tree is checked, the
 * previous managed set is backed up, and changed files are renamed into the live tree one by one. Anything that fails before the first rename leaves the live tree untouched; from the
 * first rename to the backup's rotation a journal lets the next start (or pull) finish an interrupted apply.
 * Not thread-safe: {@link ConfigSync} runs one pull at a time.
 */
public final class ConfigPull {
    private static final String BACKUP_TREE = "tree";
    private static final String BACKUP_STAMP = "taken-at";
    private static final String STAGED_TREE = "tree";
    /** A backup an agent without ownership markers left: only its tree and stamp. */
    static final Predicate<Set<String>> LEGACY_BACKUP = names -> Set.of(BACKUP_TREE, BACKUP_STAMP).containsAll(names);

    /** Where the master's rsync daemon serves its /etc/portage. */
    public record Source(String host, int port, String module) {
        /** rsync:// URL of the module's root; IPv6 addresses in brackets. */
        public String url() {
            String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
            return "rsync://" + h + ":" + port + "/" + module + "/";
        }
    }

    private final SyncConfig config;
    private final Source source;
    private final Path live;
    private final Path stagingRoot;
    private final Path staging;
    private final Path backup;
    private final Path lastSuccessFile;
    private final Path holdFile;
    private final ProcessRunner runner;
    private final Clock clock;
    private final ApplyJournal journal;
    /** Test seam: stop an apply after this many renames, as a kill would (-1: never). */
    int stopAfterRenames = -1;
    /** Test seam: where the free-space check before rsync reads its figures. */
    Staging.FreeSpace freeSpace = Staging.FreeSpace.REAL;
    /** util-linux prlimit, to give rsync an RLIMIT_FSIZE; null when missing (the watch alone bounds staging). */
    private static final String PRLIMIT = Stream.of("/usr/bin/prlimit", "/bin/prlimit")
            .filter(p -> Files.isExecutable(Path.of(p))).findFirst().orElse(null);
    /** rsync's exit code for an error in file I/O, which a write past RLIMIT_FSIZE (EFBIG) ends with. */
    private static final int RSYNC_FILE_IO = 11;
    /** How often the watch measures the staged tree while rsync runs (it starts faster, for short pulls). */
    static final Duration WATCH_EVERY = Duration.ofMillis(100);

    public ConfigPull(SyncConfig config, Source source, Path stateDir, ProcessRunner runner, Clock clock) {
        this.config = config;
        this.source = source;
        this.live = config.portageDir().toAbsolutePath().normalize();
        this.stagingRoot = config.stagingDir().orElseGet(() -> defaultStaging(live)).toAbsolutePath().normalize();
        // rsync mirrors into a subdirectory: its --delete then cannot reach the ownership marker.
        this.staging = stagingRoot.resolve(STAGED_TREE);
        this.backup = config.backupDir().orElseGet(() -> new StateDir(stateDir).configBackup()).toAbsolutePath()
                .normalize();
        this.lastSuccessFile = new StateDir(stateDir).pullLastSuccess();
        this.holdFile = new StateDir(stateDir).pullHeld();
        this.runner = runner;
        this.clock = clock;
        this.journal = new ApplyJournal(new StateDir(stateDir).applyJournal());
    }

    /** A hidden sibling of the portage dir: same filesystem, and not a directory portage reads. */
    static Path defaultStaging(Path portageDir) {
        Path parent = portageDir.getParent() == null ? Path.of("/") : portageDir.getParent();
        return parent.resolve("." + portageDir.getFileName() + ".binhost-staging");
    }

    public Path liveDir() {
        return live;
    }

    public Path stagingDir() {
        return staging;
    }

    public Path backupDir() {
        return backup;
    }

    /** The rsync argv of a pull: the seed's three calls as one filter list, bounded connect and I/O. */
    List<String> rsyncArgv() {
        List<String> argv = new ArrayList<>(config.rsyncCommand());
        // -r without -l/-D: symlinks, devices and specials on the master are skipped, never created.
        // -t keeps the master's mtimes in staging so a no-change re-pull only compares; -p with --chmod gives
        // every staged file 0644 and every directory 0755, whatever modes (setuid included) the master has.
        argv.addAll(List.of("-rtp", "--chmod=D755,F644", "--delete", "--delete-excluded",
                "--contimeout=" + Math.max(1, config.connectTimeout().toSeconds()),
                "--timeout=" + Math.max(1, config.ioTimeout().toSeconds()),
                // No --max-size: a file rsync skips looks like one the master dropped. Sizes are checked on the
                // staged tree. --checksum: an edit that keeps size and mtime (same second) is still seen.
                "--checksum",
                // rsync's protocol is a ping-pong of small messages; with Nagle on, each exchange can wait out
                // a 40 ms delayed ACK (measured: one such stall per call on loopback without it).
                "--sockopts=TCP_NODELAY"));
        argv.addAll(ConfigRules.rsyncArgs());
        argv.add(source.url());
        argv.add(staging + "/");
        return argv;
    }

    /** Pulls once. Never throws for a master's or network's fault: the result says what happened. */
    public PullResult pull() throws InterruptedException {
        Instant start = clock.instant();
        long t0 = System.nanoTime();
        try {
            return pull(start, t0);
        } catch (RuntimeException e) {
            Log.errorf("Config pull from %s failed unexpectedly: %s", source.url(), Names.describe(e));
            return result(PullResult.Outcome.FAILED, start, t0, Changes.NONE,
                    "unexpected error: " + Names.escape(String.valueOf(e)));
        }
    }

    private PullResult pull(Instant start, long t0) throws InterruptedException {
        try {
            recover();
        } catch (IOException e) {
            return result(PullResult.Outcome.FAILED, start, t0, Changes.NONE,
                    "an interrupted apply (" + journal.file() + ") could not be finished: "
                            + Names.escape(String.valueOf(e)));
        }
        try {
            // An older agent's default staging dir (no marker) is taken over; a configured one must be ours.
            OwnedDir.claim(stagingRoot, "config pull staging",
                    config.stagingDir().isEmpty() ? names -> true : OwnedDir.NOTHING_ELSE);
            Files.setPosixFilePermissions(stagingRoot, PosixFilePermissions.fromString("rwx------"));
            Files.createDirectories(staging);
        } catch (IOException e) {
            return result(PullResult.Outcome.FAILED, start, t0, Changes.NONE,
                    "cannot prepare staging dir " + staging + ": " + e.getMessage());
        }
        try {
            Optional<String> noRoom = Staging.noRoom(freeSpace, stagingRoot, live, config.maxTotalBytes());
            if (noRoom.isPresent()) {
                return result(PullResult.Outcome.REFUSED, start, t0, Changes.NONE,
                        noRoom.get() + "; rsync not started, live tree untouched");
            }
        } catch (IOException e) {
            return result(PullResult.Outcome.FAILED, start, t0, Changes.NONE,
                    "cannot read the free space for staging dir " + staging + ": " + e.getMessage());
        }
        Command rsync = Command.of("rsync", limited(rsyncArgv())).deadline(config.deadline()).build();
        Watched ran;
        try {
            ran = watched(rsync);
        } catch (IOException | UncheckedIOException e) {
            boundStaging();
            return result(PullResult.Outcome.FAILED, start, t0, Changes.NONE, e.getMessage());
        }
        if (ran.overrun().isPresent()) {
            dropStaging();
            return result(PullResult.Outcome.REFUSED, start, t0, Changes.NONE,
                    "the staged tree reached " + ran.overrun().get().files() + " files, "
                            + ran.overrun().get().bytes() + " bytes while rsync ran, more than "
                            + (ran.overrun().get().bytes() > config.maxTotalBytes()
                                    ? "binhost.sync.max-total-size (" + config.maxTotalBytes() + ")"
                                    : "binhost.sync.max-files (" + config.maxFiles() + ")")
                            + "; rsync stopped, staging removed, live tree untouched");
        }
        if (ran.result().timedOut()) {
            boundStaging();
            return result(PullResult.Outcome.TIMED_OUT, start, t0, Changes.NONE,
                    "rsync from " + source.url() + " passed the deadline of " + config.deadline()
                            + " and was killed; live tree untouched");
        }
        if (ran.result().exitCode() != 0) {
            boundStaging();
            return result(PullResult.Outcome.FAILED, start, t0, Changes.NONE,
                    "rsync from " + source.url() + " exited " + ran.result().exitCode() + ": "
                            + Names.escape(reason(ran.result().outputTail()))
                            + (PRLIMIT != null && ran.result().exitCode() == RSYNC_FILE_IO
                                    ? " (rsync may write no file larger than binhost.sync.max-total-size, "
                                            + config.maxTotalBytes() + " bytes)" : "")
                            + "; live tree untouched");
        }
        try {
            Tree staged = Tree.staged(staging, config.maxFileBytes(), config.maxTotalBytes(), config.maxFiles());
            Tree current = Tree.live(live);
            Plan plan = Plan.between(staged, staging, current, live, config.delete());
            if (config.delete() && !config.allowEmpty() && current.masterFiles() > 0 && staged.masterFiles() == 0) {
                throw new PullRefused("the master's module offers no 01* file, so the pull would remove all "
                        + current.masterFiles() + " of them (empty or wrong module?); set "
                        + "binhost.sync.allow-empty=true if that is intended");
            }
            if (plan.isEmpty()) {
                return result(PullResult.Outcome.UNCHANGED, start, t0, Changes.NONE, "live tree matches the master");
            }
            applyJournaled(plan, staging, current);
            Log.infof("Config pull from %s: %s", source.url(), plan.changes().describe(50));
            return result(PullResult.Outcome.APPLIED, start, t0, plan.changes(),
                    plan.changes().describe(50));
        } catch (PullRefused e) {
            if (e instanceof Tree.Oversize) {
                dropStaging();
            } else {
                boundStaging();
            }
            return result(PullResult.Outcome.REFUSED, start, t0, Changes.NONE,
                    e.getMessage() + "; live tree untouched");
        } catch (IOException e) {
            return result(PullResult.Outcome.FAILED, start, t0, Changes.NONE,
                    "cannot apply the pull to " + live + ": " + Names.escape(String.valueOf(e)));
        }
    }

    /**
     * rsync under {@code prlimit --fsize=<max-total-size>}: no single file it writes can pass the total, so one
     * huge file cannot outrun the watch between two looks. The per-file limit (max-file-size) is not given here:
     * it is checked on the staged tree, whose refusal names the file; past the rlimit rsync only reports EFBIG.
     */
    private List<String> limited(List<String> argv) {
        if (PRLIMIT == null) {
            return argv;
        }
        List<String> out = new ArrayList<>(List.of(PRLIMIT, "--fsize=" + config.maxTotalBytes(), "--"));
        out.addAll(argv);
        return out;
    }

    /** rsync's result, and the staged tree's measure when the watch stopped rsync for passing the total. */
    record Watched(CommandResult result, Optional<Staging.Measure> overrun) {
    }

    /**
     * Runs rsync while measuring the staged tree (every {@link #WATCH_EVERY}, sooner at first): past
     * binhost.sync.max-total-size or max-files the runner ends rsync as a deadline would, so a master cannot fill
     * the filesystem (or its inodes) with many files each under the per-file limit. The deadline stays the
     * runner's.
     */
    private Watched watched(Command rsync) throws IOException, InterruptedException {
        ProcessRunner.Running running = runner.start(rsync);
        long end = System.nanoTime() + rsync.deadline().toNanos();
        long pause = 5;
        Optional<Staging.Measure> overrun = Optional.empty();
        try {
            while (running.isAlive() && System.nanoTime() < end) {
                Thread.sleep(pause);
                pause = Math.min(pause * 2, WATCH_EVERY.toMillis());
                Staging.Measure now = Staging.measureNow(staging);
                if (now.bytes() > config.maxTotalBytes() || now.files() > config.maxFiles()) {
                    Log.warnf("Config pull from %s: %d files, %d bytes staged, more than binhost.sync.max-files (%d)"
                            + " or max-total-size (%d); stopping rsync", source.url(), now.files(), now.bytes(),
                            config.maxFiles(), config.maxTotalBytes());
                    overrun = Optional.of(now);
                    running.cancel();
                    break;
                }
            }
        } catch (InterruptedException | RuntimeException e) {
            // Never leave rsync writing into staging behind us.
            running.cancel();
            running.await();
            throw e;
        }
        return new Watched(running.await(), overrun);
    }

    /** Runs the separate-tree sync command (e.g. emerge --sync), bounded by its own deadline. */
    public Optional<CommandResult> syncTree() throws InterruptedException {
        if (config.treeSyncCommand().isEmpty()) {
            return Optional.empty();
        }
        Command cmd = Command.of("tree-sync", config.treeSyncCommand().get()).deadline(config.treeSyncDeadline())
                .build();
        try {
            return Optional.of(runner.run(cmd));
        } catch (IOException e) {
            return Optional.of(new CommandResult("tree-sync", 127, Duration.ZERO, false, e.getMessage(),
                    Optional.empty()));
        }
    }

    /**
     * Puts the backed-up 01* set back: files it has are written, managed files it lacks are removed. The set
     * it replaces becomes the backup, so rolling back twice restores the pulled set.
     */
    public RollbackResult rollback() {
        try {
            // First: a crash during the backup's rotation may have left it beside its place.
            recover();
        } catch (IOException e) {
            return new RollbackResult(false, Changes.NONE, Optional.empty(), "an interrupted apply ("
                    + journal.file() + ") could not be finished: " + Names.escape(String.valueOf(e)));
        }
        Path tree = backup.resolve(BACKUP_TREE);
        if (!Files.isDirectory(tree, LinkOption.NOFOLLOW_LINKS)) {
            return new RollbackResult(false, Changes.NONE, Optional.empty(),
                    "no backup in " + backup + ": no pull has changed the config yet");
        }
        Optional<Instant> takenAt = backupTakenAt();
        try {
            Tree saved = Tree.staged(tree, Long.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE);
            Tree current = Tree.live(live);
            Plan plan = Plan.between(saved, tree, current, live, true);
            if (plan.isEmpty()) {
                return new RollbackResult(true, Changes.NONE, takenAt, "live tree already matches the backup");
            }
            applyJournaled(plan, tree, current);
            Log.infof("Config rolled back to the set backed up at %s: %s", takenAt.map(Instant::toString)
                    .orElse("?"), plan.changes().describe(50));
            return new RollbackResult(true, plan.changes(), takenAt, "rolled back: " + plan.changes().describe(50));
        } catch (PullRefused e) {
            return new RollbackResult(false, Changes.NONE, takenAt, "refused: " + e.getMessage());
        } catch (IOException e) {
            return new RollbackResult(false, Changes.NONE, takenAt, "cannot roll back: "
                    + Names.escape(String.valueOf(e)));
        } catch (RuntimeException e) {
            Log.errorf("Config rollback failed unexpectedly: %s", Names.describe(e));
            return new RollbackResult(false, Changes.NONE, takenAt, "cannot roll back: unexpected error: "
                    + Names.escape(String.valueOf(e)));
        }
    }

    /**
     * Backs up the live set, then applies the plan under the journal: if the agent dies between the first rename
     * and the backup's rotation, {@link #recover} finishes the apply, so the live tree is never left a mix of two
     * sets and the backup is always taken from a whole one.
     */
    private void applyJournaled(Plan plan, Path sourceRoot, Tree current) throws IOException {
        Path next = takeBackup(current);
        try {
            plan.apply(sourceRoot, live, current.staleTemps(), this::flush, () -> {
                flushBackup(next);
                journal.begin(live, next, plan);
            }, stopAfterRenames);
        } catch (IOException e) {
            // A rename failed midway: finish now if possible rather than leave a mix until the next pull.
            if (journal.exists()) {
                try {
                    recover();
                } catch (IOException again) {
                    e.addSuppressed(again);
                }
            }
            throw e;
        }
        rotateBackup(next);
        journal.end();
    }

    /**
     * Finishes an apply that a crash (or a failed rename) interrupted, before anything else reads or backs up the
     * live tree: every temp the journal names was durable before the journal was written, so rolling forward is
     * always possible. Without a journal no rename had started, and leftover temps are only removed.
     * Returns what was done, empty when there was nothing to finish.
     */
    public Optional<String> recover() throws IOException {
        Optional<ApplyJournal.Entry> found = journal.read();
        if (found.isEmpty()) {
            for (Path stale : Tree.live(live).staleTemps()) {
                Files.deleteIfExists(stale);
            }
            return Optional.empty();
        }
        ApplyJournal.Entry j = found.get();
        if (!j.live().equals(live)) {
            throw new IOException("the apply journal " + journal.file() + " is for " + j.live() + ", not " + live);
        }
        int renamed = 0;
        for (String rel : j.install()) {
            Path target = inside(rel);
            Path temp = Plan.tempOf(target);
            if (Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                renamed++;
            }
        }
        for (String rel : j.remove()) {
            Files.deleteIfExists(inside(rel));
        }
        for (String rel : j.removeDirs()) {
            try {
                Files.deleteIfExists(inside(rel));
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                // The slave keeps its own files there.
            }
        }
        flush();
        if (Files.isDirectory(j.backupNext(), LinkOption.NOFOLLOW_LINKS)) {
            rotateBackup(j.backupNext());
        }
        journal.end();
        String done = "finished an interrupted config apply: " + renamed + " of " + j.install().size()
                + " files were still to be renamed, " + j.remove().size() + " to remove; backup rotated";
        Log.warnf("Config: %s", done);
        return Optional.of(done);
    }

    /** Whether an interrupted apply still waits to be finished (its journal is on disk). */
    public boolean applyInterrupted() {
        return journal.exists();
    }

    /** A journal's relative path, resolved inside the live tree (a damaged journal must not reach outside). */
    private Path inside(String rel) throws IOException {
        Path p = live.resolve(rel).normalize();
        if (rel.isEmpty() || !p.startsWith(live) || p.equals(live)) {
            throw new IOException("the apply journal " + journal.file() + " names a path outside " + live + ": "
                    + Names.escape(rel));
        }
        return p;
    }

    /**
     * After a pull that did not apply: what rsync left in staging stays for the next pull to reuse only when it
     * is within the size and count limits (a timeout or a lost link often leaves a good partial tree); anything
     * bigger is removed.
     */
    private void boundStaging() {
        try {
            Staging.Measure m = Staging.measure(staging);
            if (!m.within(config.maxFileBytes(), config.maxTotalBytes(), config.maxFiles())) {
                Log.infof("Config pull: removing the staged tree %s (%d files, %d bytes, largest %d): over the limits",
                        staging, m.files(), m.bytes(), m.largest());
                dropStaging();
            }
        } catch (IOException | RuntimeException e) {
            Log.warnf("Cannot measure the staging tree %s (%s); removing it", staging, e);
            dropStaging();
        }
    }

    /** Removes what a size refusal staged, so a huge tree does not sit on disk until the next pull. */
    private void dropStaging() {
        try {
            // Only rsync's tree inside the staging root: the root keeps its ownership marker.
            OwnedDir.deleteInside(stagingRoot, staging);
        } catch (IOException e) {
            Log.warnf("Cannot remove the refused staging tree %s: %s", staging, e);
        }
    }

    public Optional<Instant> backupTakenAt() {
        return readStamp(backup.resolve(BACKUP_STAMP));
    }

    /** When a pull last succeeded, as recorded by {@link #recordSuccess}; empty if never or unreadable. */
    public Optional<Instant> lastSuccess() {
        return readStamp(lastSuccessFile);
    }

    /**
     * Records a successful pull so freshness survives a restart. A failure is logged, not thrown: the pull
     * itself is done.
     */
    public void recordSuccess(Instant at) {
        try {
            writeStamp(lastSuccessFile, at);
        } catch (IOException e) {
            Log.warnf("Cannot record the config pull's time in %s: %s", lastSuccessFile, e);
        }
    }

    /** Since when pulls are held at a rolled-back set (survives restarts); empty when they are not. */
    public Optional<Instant> heldSince() {
        return readStamp(holdFile);
    }

    /** Holds pulls at the set a rollback restored, until {@link #release}. */
    public void hold(Instant since) throws IOException {
        writeStamp(holdFile, since);
    }

    public void release() throws IOException {
        Files.deleteIfExists(holdFile);
    }

    /** A crash leaves the old time or the new one ({@link DurableFile}). */
    private static void writeStamp(Path file, Instant at) throws IOException {
        DurableFile.replace(file, (at + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static Optional<Instant> readStamp(Path file) {
        try {
            return Optional.of(Instant.parse(Files.readString(file).strip()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Copies the live managed set into a fresh directory beside the backup; {@link #rotateBackup} swaps it in. */
    private Path takeBackup(Tree current) throws IOException {
        Path next = backup.resolveSibling(backup.getFileName() + ".new");
        // Before the first rename: a backup dir that is not ours must stop the pull with the live tree intact.
        OwnedDir.claim(backup, "config backup", LEGACY_BACKUP);
        OwnedDir.claim(next, "config backup", LEGACY_BACKUP);
        OwnedDir.deleteTree(next);
        OwnedDir.claim(next, "config backup");
        Path tree = next.resolve(BACKUP_TREE);
        Files.createDirectories(tree);
        for (String dir : current.dirs()) {
            Files.createDirectories(tree.resolve(dir));
        }
        for (String file : current.files().keySet()) {
            Files.copy(live.resolve(file), tree.resolve(file), LinkOption.NOFOLLOW_LINKS);
            // 0644 whatever the umask: a rollback links these back into the live tree as they are.
            Files.setPosixFilePermissions(tree.resolve(file), Tree.FILE_MODE);
        }
        Files.writeString(next.resolve(BACKUP_STAMP), clock.instant().toString() + "\n");
        return next;
    }

    private void rotateBackup(Path next) throws IOException {
        Path old = backup.resolveSibling(backup.getFileName() + ".old");
        OwnedDir.claim(old, "config backup", LEGACY_BACKUP);
        OwnedDir.deleteTree(old);
        if (Files.exists(backup, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(backup, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(next, backup, StandardCopyOption.ATOMIC_MOVE);
        OwnedDir.deleteTree(old);
    }

    /** Tests' clean-up of their own temp trees; the agent deletes only through {@link OwnedDir}. */
    static void deleteTree(Path root) throws IOException {
        OwnedDir.walkAndDelete(root);
    }

    /**
     * One syncfs(2) of the live tree's filesystem (coreutils {@code sync -f}) instead of an fsync per file:
     * a first pull writes hundreds of files, and per-file fsyncs cost seconds.
     */
    private void flush() throws IOException {
        syncfs(live);
    }

    /** The backup must be durable before the journal points at it; one more syncfs when it is elsewhere. */
    private void flushBackup(Path next) throws IOException {
        if (!Files.getFileStore(next).equals(Files.getFileStore(live))) {
            syncfs(next);
        }
    }

    private void syncfs(Path on) throws IOException {
        try {
            CommandResult r = runner.run(Command.of("sync", "sync", "-f", on.toString())
                    .deadline(config.deadline()).build());
            if (!r.succeeded()) {
                throw new IOException("sync -f " + on + ": " + r.summary() + ": " + r.lastLine());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while flushing " + on, e);
        }
    }

    /** rsync's own complaint ("rsync: failed to connect …", "@ERROR: Unknown module …"), else its last line. */
    static String reason(String output) {
        String last = "";
        for (String line : output.strip().split("\n")) {
            String l = line.strip();
            if (l.startsWith("@ERROR") || l.startsWith("rsync: ")) {
                return l;
            }
            if (!l.isEmpty()) {
                last = l;
            }
        }
        return last;
    }

    private PullResult result(PullResult.Outcome outcome, Instant start, long t0, Changes changes, String message) {
        return new PullResult(outcome, start, Duration.ofNanos(System.nanoTime() - t0), changes, message,
                Optional.empty());
    }
}
