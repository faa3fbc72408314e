package dev.binhost.agent.emerge;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows a real emerge run line by line ({@code >>> Emerging (3 of 11) …}, {@code >>> Emerging binary (…)},
 * {@code >>> Completed (…)}, {@code * ERROR: … failed (compile phase):}) and answers "where is it now" at any
 * moment. Fed from the runner's follower thread while status reads it, hence synchronized.
 */
public final class EmergeProgress {
    private static final Pattern STEP = Pattern.compile(
            "^>>> (Emerging binary|Emerging|Installing|Completed) \\((\\d+) of (\\d+)\\) (\\S+?)(?:::(\\S+))?$");
    private static final Pattern FAILED = Pattern.compile("^>>> Failed to (?:emerge|install) (\\S+?),?(?: Log file:)?$");
    private static final Pattern ERROR = Pattern.compile("^\\* ERROR: (\\S+?)(?:::\\S+)? failed \\(([^)]+) phase\\)");
    private static final Pattern FETCH_FAILED = Pattern.compile("^!!! Couldn't download '([^']+)'");

    /** Where a run stands. {@code current} is the package being emerged, empty between packages or before. */
    public record Snapshot(int index, int total, Optional<String> current, boolean currentIsBinary,
            int completedBinary, int completedCompiled, Optional<String> failedPackage, Optional<String> failedPhase) {
        public int completed() {
            return completedBinary + completedCompiled;
        }

        /** "(3 of 11) app-misc/demo-cli-2.0" or "" before the first package. */
        public String display() {
            return current.map(c -> "(" + index + " of " + total + ") " + c + (currentIsBinary ? " [binary]" : ""))
                    .orElse(total == 0 ? "" : completed() + " of " + total + " done");
        }
    }

    private int index;
    private int total;
    private String current;
    private boolean currentIsBinary;
    private int completedBinary;
    private int completedCompiled;
    private String failedPackage;
    private String failedPhase;

    /** Takes one output line (colour codes allowed). */
    public synchronized void accept(String rawLine) {
        String line = Ansi.strip(rawLine).strip();
        if (!(line.startsWith(">>>") || line.startsWith("*") || line.startsWith("!!!"))) {
            return;
        }
        Matcher step = STEP.matcher(line);
        if (step.matches()) {
            String verb = step.group(1);
            index = Integer.parseInt(step.group(2));
            total = Integer.parseInt(step.group(3));
            if (verb.startsWith("Emerging")) {
                current = step.group(4);
                currentIsBinary = verb.equals("Emerging binary");
            } else if (verb.equals("Completed") && current != null) {
                // an uninstall (soft blocker) also ends with "Completed (1 of 1)"; only merges count
                if (currentIsBinary) {
                    completedBinary++;
                } else {
                    completedCompiled++;
                }
                current = null;
            }
            return;
        }
        Matcher error = ERROR.matcher(line);
        if (error.find()) {
            if (failedPackage == null) {
                failedPackage = error.group(1);
                failedPhase = error.group(2);
            }
            return;
        }
        Matcher failed = FAILED.matcher(line);
        if (failed.matches()) {
            if (failedPackage == null) {
                failedPackage = failed.group(1);
            }
            return;
        }
        if (FETCH_FAILED.matcher(line).find() && failedPhase == null) {
            failedPhase = "fetch";
            if (failedPackage == null && current != null) {
                failedPackage = current;
            }
        }
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(index, total, Optional.ofNullable(current), currentIsBinary, completedBinary,
                completedCompiled, Optional.ofNullable(failedPackage), Optional.ofNullable(failedPhase));
    }

    /** Feeds a whole output at once (a finished run's log); returns where it ended. */
    public static Snapshot of(String output) {
        EmergeProgress p = new EmergeProgress();
        for (String line : output.split("\r?\n")) {
            p.accept(line);
        }
        return p.snapshot();
    }
}
