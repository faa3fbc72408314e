package dev.binhost.agent.emerge;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times {@link EmergePlan#parse} on a synthetic 5,000-package plan built from the real mixed-slave fixture
 * (colour output): its package lines repeated with varied package names, plus its ignored-binaries block.
 * Prints the median of the measured rounds. Run by bench/plan-parse.sh.
 */
public final class PlanParseBench {
    private PlanParseBench() {
    }

    public static void main(String[] args) {
        int packages = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        String plan = synthetic(packages);
        for (int i = 0; i < 10; i++) {
            EmergePlan.parse(plan); // warm-up
        }
        long[] nanos = new long[rounds];
        int listed = 0;
        for (int i = 0; i < rounds; i++) {
            long t = System.nanoTime();
            listed = EmergePlan.parse(plan).packages().size();
            nanos[i] = System.nanoTime() - t;
        }
        Arrays.sort(nanos);
        System.out.printf("parse %d-package plan (%d KiB of colour output): median %.2f ms, min %.2f ms, max %.2f ms"
                + " over %d rounds%n", listed, plan.length() / 1024, nanos[rounds / 2] / 1e6, nanos[0] / 1e6,
                nanos[rounds - 1] / 1e6, rounds);
    }

    static String synthetic(int packages) {
        String fixture = Fixtures.entry("030-").text();
        List<String> pkgLines = new ArrayList<>();
        StringBuilder head = new StringBuilder();
        StringBuilder tail = new StringBuilder();
        boolean listSeen = false;
        for (String line : fixture.split("\n")) {
            if (Ansi.strip(line).startsWith("[")) {
                pkgLines.add(line);
                listSeen = true;
            } else if (!listSeen) {
                head.append(line).append('\n');
            } else if (!Ansi.strip(line).startsWith("Total:")) {
                tail.append(line).append('\n');
            }
        }
        StringBuilder out = new StringBuilder(head);
        for (int i = 0; i < packages; i++) {
            String line = pkgLines.get(i % pkgLines.size());
            out.append(line.replaceFirst("/([a-z-]+?)-(\\d)", "/$1-n" + i + "-$2")).append('\n');
        }
        out.append("\nTotal: ").append(packages).append(" packages (").append(packages)
                .append(" new), Size of downloads: 0 KiB\n");
        out.append(tail);
        return out.toString();
    }
}
