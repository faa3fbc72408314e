package dev.binhost.agent.mount;

import dev.binhost.agent.portage.Finding;
import dev.binhost.agent.process.DaemonThreads;
import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Checks DISTDIR and PKGDIR against the configured mounts once at start and logs what is wrong, so an admin
 * who never runs {@code binhost-agent check} still reads, in the service log, that emerge cannot fetch into a
 * read-only share. Reads make.conf and mountinfo only: nothing here touches a mount or the network. The check
 * runs on a thread of its own, so start-up does not wait for those reads.
 */
@ApplicationScoped
public class PreflightAtStart {
    void onStart(@Observes StartupEvent event, PortageDirs dirs) {
        inBackground(dirs::check);
    }

    /** Starts the check on a daemon thread and returns that thread at once; it logs what {@link #lines} says. */
    static Thread inBackground(Supplier<List<Finding>> check) {
        Thread t = DaemonThreads.named("preflight").newThread(() -> {
            try {
                for (Line line : lines(check.get())) {
                    if (line.problem()) {
                        Log.warn(line.text());
                    } else {
                        Log.info(line.text());
                    }
                }
            } catch (RuntimeException e) {
                Log.warnf("Preflight at start failed: %s (binhost-agent check runs it again)", e.toString());
            }
        });
        t.start();
        return t;
    }

    record Line(boolean problem, String text) {
    }

    /** One line per finding, problems as warnings; nothing when DISTDIR and PKGDIR fit the mounts. */
    static List<Line> lines(List<Finding> findings) {
        List<Line> lines = new ArrayList<>();
        for (Finding f : findings) {
            lines.add(new Line(f.level() == Finding.Level.PROBLEM,
                    "Preflight (" + f.topic() + "): " + f.what() + "; " + f.change()));
        }
        if (findings.isEmpty()) {
            Log.debug("Preflight: DISTDIR and PKGDIR fit the configured mounts");
        }
        return lines;
    }
}
