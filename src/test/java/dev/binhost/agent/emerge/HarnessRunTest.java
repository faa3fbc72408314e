package dev.binhost.agent.emerge;

import dev.binhost.agent.history.RunHistory;
import dev.binhost.agent.history.RunOutcome;
import dev.binhost.agent.history.RunRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Not for CI: the update runner against the REAL emerge of the harness (/work/shared/harness), one-pass and
 * pretend-then-run from the same host state, with the wall time and the CPU of everything each run started.
 * {@code BINHOST_TEST_HARNESS_EMERGE}: a wrapper that runs the harness's emerge on one host;
 * {@code BINHOST_TEST_HARNESS_RESTORE}: a shell command that puts that host back to its state before a run.
 */
@EnabledIfEnvironmentVariable(named = "BINHOST_TEST_HARNESS_EMERGE", matches = ".+")
class HarnessRunTest {
    @TempDir
    Path tmp;

    @Test
    void onePass_thenPretendThenRun_sameHostState_measured() throws Exception {
        for (String resolution : new String[] {"one-pass", "pretend-then-run"}) {
            restore();
            StandIn s = new StandIn(tmp.resolve(resolution));
            s.config.put("binhost.update.emerge-command", System.getenv("BINHOST_TEST_HARNESS_EMERGE"));
            s.config.put("binhost.update.resolution", resolution);
            s.config.put("binhost.update.plan-deadline", "5m");
            s.config.put("binhost.update.run-deadline", "30m");
            long cpuBefore = childrenCpuTicks();
            RunRecord r = s.runner().run(UpdateRunner.Reason.TRIGGER, "harness");
            long cpu = childrenCpuTicks() - cpuBefore;
            Duration wall = Duration.between(Instant.parse(r.startedAt()), Instant.parse(r.endedAt()));
            System.out.printf("HARNESS %s: %s, wall %.1f s, CPU of its processes %.2f s%n%s%n", resolution,
                    r.outcome().tag(), wall.toMillis() / 1000.0, cpu / 100.0, RunHistory.json(r));
            assertEquals(RunOutcome.SUCCESS, r.outcome(), r.message());
            assertEquals(resolution, r.resolution());
        }
        restore();
    }

    private static void restore() throws Exception {
        HarnessRunTestSupport.restore();
    }

    /** utime + stime of this JVM's reaped children and theirs (fields 16 and 17 of /proc/self/stat), in ticks. */
    private static long childrenCpuTicks() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }
}
