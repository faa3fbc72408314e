package dev.binhost.agent.mount;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.util.List;

/** Readiness "mounts": every configured mount is there and answered its last probe. Reads memory only. */
@Readiness
@ApplicationScoped
public class MountsReadiness implements HealthCheck {
    private final MountManager mounts;

    @Inject
    public MountsReadiness(MountManager mounts) {
        this.mounts = mounts;
    }

    @Override
    public HealthCheckResponse call() {
        List<MountStatus> all = mounts.statuses();
        List<MountStatus> bad = all.stream().filter(s -> !s.healthy()).toList();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("mounts").status(bad.isEmpty());
        for (MountStatus s : all) {
            b.withData(s.name(), s.phase() + " " + s.target() + ": " + s.detail());
        }
        if (all.isEmpty()) {
            b.withData("reason", "no mounts configured");
        } else if (!bad.isEmpty()) {
            b.withData("reason", "not healthy: " + String.join(", ", bad.stream().map(MountStatus::name).toList()));
        }
        return b.build();
    }
}
