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
    // A binary that failed its checks (recorded with the real Portage, records 65-67): the digest against the
    // binhost's Packages index, after the download, or the GnuPG signature, when the binpkg is opened.
    private static final Pattern DIGEST_REASON = Pattern.compile("^!!! Reason: Failed on (\\S+) verification$");
    private static final Pattern BINPKG_FILE = Pattern.compile("^!!! /\\S+\\.(?:gpkg\\.tar|tbz2|xpak)(?:\\.partial)?$");
    private static final Pattern GOT = Pattern.compile("^!!! (Got|Expected): (\\S+)$");
    private static final Pattern GPG_FAILED = Pattern.compile("^!!! (?:Error extracting|Invalid binary package:) '([^']+)',"
            + " GnuPG verification failed$");

    /** The phase a binary failed in when its digest did not match the binhost's index. */
    public static final String DIGEST_CHECK = "binary digest check";
    /** The phase a binary failed in when its signature did not verify. */
    public static final String SIGNATURE_CHECK = "binary signature check";

    /**
     * Where a run stands. {@code current} is the package being emerged, empty between packages or before;
     * {@code failedDetail} what emerge said of the failure when it said more than the phase (a bad binary's why).
     */
    public record Snapshot(int index, int total, Optional<String> current, boolean currentIsBinary,
            int completedBinary, int completedCompiled, Optional<String> failedPackage, Optional<String> failedPhase,
            Optional<String> failedDetail) {
        public Snapshot(int index, int total, Optional<String> current, boolean currentIsBinary,
                int completedBinary, int completedCompiled, Optional<String> failedPackage,
                Optional<String> failedPhase) {
            this(index, total, current, currentIsBinary, completedBinary, completedCompiled, failedPackage,
                    failedPhase, Optional.empty());
        }

        /** Whether the failed package is a binary that failed its digest or signature check. */
        public boolean badBinary() {
            return failedPhase.filter(EmergeProgress::badBinaryPhase).isPresent();
        }
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
    private String failedDetail;
    /** A binary check failed and the {@code >>> Failed to emerge} line naming the package is still to come. */
    private String badPhase;
    private String badDetail;
    private boolean inSummary;
    private boolean digestFailed;

    /** Whether a failed phase is a binary's digest or signature check. */
    public static boolean badBinaryPhase(String phase) {
        return DIGEST_CHECK.equals(phase) || SIGNATURE_CHECK.equals(phase);
    }

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
                if (badPhase != null) {
                    failedPhase = badPhase;
                    failedDetail = badDetail;
                }
            }
            badPhase = null;
            badDetail = null;
            return;
        }
        if (badBinaryLine(line)) {
            return;
        }
        if (FETCH_FAILED.matcher(line).find() && failedPhase == null) {
            failedPhase = "fetch";
            if (failedPackage == null && current != null) {
                failedPackage = current;
            }
        }
    }

    /**
     * The lines a bad binary prints before emerge names it: {@code !!! Digest verification failed:} with
     * {@code !!! Reason: Failed on size verification} (or MD5, SHA1 …) and {@code !!! Got:}/{@code !!! Expected:};
     * or {@code * Binary package is not usable (verification failed):}, {@code *  Summary:} and the summary line
     * ({@code binpkg signed with at least one unknown key.}), then {@code !!! Error extracting '…', GnuPG
     * verification failed}.
     */
    private boolean badBinaryLine(String line) {
        if (line.equals("!!! Digest verification failed:")) {
            digestFailed = true;
            return true;
        }
        if (digestFailed) {
            // the next line is the file: a binpkg (its download), or a distfile (a source fetch, not a binary)
            digestFailed = false;
            if (BINPKG_FILE.matcher(line).find()) {
                badPhase = DIGEST_CHECK;
                badDetail = "its digest does not match the binhost's Packages index";
                return true;
            }
        }
        Matcher reason = DIGEST_REASON.matcher(line);
        if (reason.matches() && DIGEST_CHECK.equals(badPhase)) {
            badDetail = reason.group(1).equals("size") ? "its size does not match the binhost's Packages index"
                    : "its " + reason.group(1) + " does not match the binhost's Packages index";
            return true;
        }
        Matcher got = GOT.matcher(line);
        if (got.matches() && DIGEST_CHECK.equals(badPhase)) {
            badDetail += (got.group(1).equals("Got") ? ": got " : ", expected ") + got.group(2);
            return true;
        }
        if (line.equals("* Binary package is not usable (verification failed):")) {
            badPhase = SIGNATURE_CHECK;
            badDetail = "GnuPG verification failed";
            inSummary = false;
            return true;
        }
        if (SIGNATURE_CHECK.equals(badPhase) && line.startsWith("*")) {
            String text = line.substring(1).strip();
            if (text.equals("Summary:")) {
                inSummary = true;
            } else if (inSummary && !text.isEmpty()) {
                badDetail = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
                inSummary = false;
            }
            return true;
        }
        if (GPG_FAILED.matcher(line).matches()) {
            if (badPhase == null) {
                badPhase = SIGNATURE_CHECK;
                badDetail = "GnuPG verification failed";
            }
            return true;
        }
        return false;
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(index, total, Optional.ofNullable(current), currentIsBinary, completedBinary,
                completedCompiled, Optional.ofNullable(failedPackage), Optional.ofNullable(failedPhase),
                Optional.ofNullable(failedDetail));
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
