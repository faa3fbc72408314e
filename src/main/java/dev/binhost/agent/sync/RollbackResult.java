package dev.binhost.agent.sync;

import java.time.Instant;
import java.util.Optional;

/**
 * What {@code rollback-config} did. {@code done} is false when there was no backup or the live tree could not
 * take it; then {@code message} says why and nothing was changed. A rollback keeps the set it replaced as the
 * new backup, so a second rollback undoes the first.
 */
public record RollbackResult(boolean done, Changes changes, Optional<Instant> backupTakenAt, String message) {
}
