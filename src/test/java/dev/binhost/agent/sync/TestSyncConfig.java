package dev.binhost.agent.sync;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A {@link SyncConfig} for plain JUnit tests: defaults as in production, paths in a temp dir. */
final class TestSyncConfig implements SyncConfig {
    Path portageDir;
    Path stagingDir;
    Path backupDir;
    List<String> rsyncCommand = List.of("rsync");
    Duration deadline = Duration.ofSeconds(30);
    Duration ioTimeout = Duration.ofSeconds(30);
    boolean delete = true;
    boolean allowEmpty;
    String maxFileSize = "8M";
    String maxTotalSize = "64M";
    int maxFiles = 20000;
    List<String> treeSync;
    boolean pullOnMasterUp;
    Duration interval = Duration.ZERO;

    TestSyncConfig(Path root) {
        portageDir = root.resolve("etc/portage");
        stagingDir = root.resolve("etc/.portage.binhost-staging");
        backupDir = root.resolve("state/config-backup");
    }

    @Override public Path portageDir() { return portageDir; }
    @Override public Optional<Path> stagingDir() { return Optional.of(stagingDir); }
    @Override public Optional<Path> backupDir() { return Optional.of(backupDir); }
    @Override public List<String> rsyncCommand() { return rsyncCommand; }
    @Override public Duration interval() { return interval; }
    @Override public Duration jitter() { return Duration.ZERO; }
    @Override public boolean pullOnMasterUp() { return pullOnMasterUp; }
    @Override public Duration deadline() { return deadline; }
    @Override public Duration connectTimeout() { return Duration.ofSeconds(5); }
    @Override public Duration ioTimeout() { return ioTimeout; }
    @Override public boolean delete() { return delete; }
    @Override public boolean allowEmpty() { return allowEmpty; }
    @Override public String maxFileSize() { return maxFileSize; }
    @Override public String maxTotalSize() { return maxTotalSize; }
    @Override public int maxFiles() { return maxFiles; }
    @Override public Duration maxAge() { return Duration.ofHours(26); }
    @Override public boolean requireFresh() { return true; }
    @Override public Optional<List<String>> treeSyncCommand() { return Optional.ofNullable(treeSync); }
    @Override public Duration treeSyncDeadline() { return Duration.ofSeconds(30); }
}
