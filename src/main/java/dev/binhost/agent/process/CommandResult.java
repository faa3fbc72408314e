package dev.binhost.agent.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * What a finished command did. {@code exitCode} follows the shell's convention: 128 + signal when a signal
 * ended the process. {@code log} is empty when the command kept only its tail.
 */
public record CommandResult(
        String label,
        int exitCode,
        Duration took,
        boolean timedOut,
        String outputTail,
        Optional<Path> log) {

    public boolean succeeded() {
        return exitCode == 0 && !timedOut;
    }

    /** One line for logs: "rsync exited 23 after 1.2 s" or "rsync timed out after 30 s and was killed". */
    public String summary() {
        String secs = String.format("%.1f s", took.toMillis() / 1000.0);
        if (timedOut) {
            return label + " timed out after " + secs + " and was killed";
        }
        return label + " exited " + exitCode + " after " + secs;
    }

    /** The last non-blank output line, which for most tools carries the error message. */
    public String lastLine() {
        String[] lines = outputTail.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
}
