package dev.binhost.agent.mount;

import dev.binhost.agent.portage.Finding;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreflightAtStartTest {
    @Test
    void inBackground_returnsWhileTheChecksReadsAreStillGoing() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean checked = new AtomicBoolean();
        Thread t = PreflightAtStart.inBackground(() -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            checked.set(true);
            return List.of(Finding.problem("DISTDIR", "inside the read-only mount packages", "set DISTDIR"));
        });
        assertTrue(t.isAlive(), "start-up went on while make.conf and mountinfo were being read");
        assertTrue(t.isDaemon(), "a stuck read cannot keep the agent from exiting");
        assertFalse(checked.get());
        release.countDown();
        t.join(10_000);
        assertFalse(t.isAlive());
        assertTrue(checked.get());
    }

    @Test
    void lines_problemsAreWarnings_adviceIsInfo() {
        List<PreflightAtStart.Line> lines = PreflightAtStart.lines(List.of(
                Finding.problem("DISTDIR", "/var/cache/distfiles is inside the read-only mount distfiles",
                        "set DISTDIR to a local directory"),
                Finding.advice("PKGDIR", "PKGDIR is not a mount", "mount the master's PKGDIR there")));
        assertEquals(List.of(
                new PreflightAtStart.Line(true, "Preflight (DISTDIR): /var/cache/distfiles is inside the read-only"
                        + " mount distfiles; set DISTDIR to a local directory"),
                new PreflightAtStart.Line(false, "Preflight (PKGDIR): PKGDIR is not a mount; mount the master's"
                        + " PKGDIR there")), lines);
        assertEquals(List.of(), PreflightAtStart.lines(List.of()));
    }
}
