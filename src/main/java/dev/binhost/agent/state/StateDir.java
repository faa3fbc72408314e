package dev.binhost.agent.state;

import java.nio.file.Path;

/**
 * Every file the agent keeps under {@code binhost.agent.state-dir}, in one place: what it is, who writes it, and
 * how. Files that must survive a crash whole are replaced through {@link DurableFile} (temp file, fsync, rename,
 * fsync of the directory); the history is appended with an fsync per line. Nothing else is written here.
 *
 * @param root the state directory, absolute
 */
public record StateDir(Path root) {
    public StateDir {
        root = root.toAbsolutePath().normalize();
    }

    /** flock held for the agent's life: one agent per state directory ({@link AgentLock}); holds its pid. */
    public Path agentLock() {
        return root.resolve("agent.lock");
    }

    /** flock held for one update run, so a second runner (a test, an old agent) cannot start one beside it. */
    public Path updateLock() {
        return root.resolve("update.lock");
    }

    /** One JSON line per finished update run, appended and fsynced; rotated through {@link DurableFile}. */
    public Path history() {
        return root.resolve("history.jsonl");
    }

    /** The run in progress (record, phase, emerge pid); replaced durably; found at start = an interrupted run. */
    public Path runMarker() {
        return root.resolve("current-run.json");
    }

    /** When the last run that got past its preconditions started: the schedule's catch-up reads it. */
    public Path lastRun() {
        return root.resolve("last-run");
    }

    /** When the last config pull succeeded: freshness survives a restart. */
    public Path pullLastSuccess() {
        return root.resolve("config-pull.last-success");
    }

    /** Present while pulls are held after a rollback (until {@code pull-config}); holds when it was set. */
    public Path pullHeld() {
        return root.resolve("config-pull.held");
    }

    /** Written before the first rename of an apply, removed after the last: a crash between is rolled forward. */
    public Path applyJournal() {
        return root.resolve("config-apply.journal");
    }

    /** The config set before the last apply (default location; {@code binhost.sync.backup-dir} moves it). */
    public Path configBackup() {
        return root.resolve("config-backup");
    }

    /** The mounts the agent made and may unmount, across restarts. */
    public Path ownedMounts() {
        return root.resolve("mounts-owned.properties");
    }

    /** Scratch files of running child processes; removed at the next start. */
    public Path runnerScratch() {
        return root.resolve("runner-scratch");
    }
}
