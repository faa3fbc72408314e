package dev.binhost.agent.mount;

import dev.binhost.agent.portage.Finding;
import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.util.List;

/**
 * Checks DISTDIR and PKGDIR against the configured mounts once at start and logs what is wrong, so an admin
 * who never runs {@code binhost-agent check} still reads, in the service log, that emerge cannot fetch into a
 * read-only share. Reads make.conf and mountinfo only: nothing here touches a mount or the network.
 */
@ApplicationScoped
public class PreflightAtStart {
    void onStart(@Observes StartupEvent event, PortageDirs dirs) {
        List<Finding> findings = dirs.check();
        for (Finding f : findings) {
            String line = "Preflight (" + f.topic() + "): " + f.what() + "; " + f.change();
            if (f.level() == Finding.Level.PROBLEM) {
                Log.warn(line);
            } else {
                Log.info(line);
            }
        }
        if (findings.isEmpty()) {
            Log.debug("Preflight: DISTDIR and PKGDIR fit the configured mounts");
        }
    }
}
