package dev.binhost.agent.mount;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A {@link MountConfig} built in code for tests that run without Quarkus. */
record TestMountConfig(
        Map<String, MountSpec> mounts,
        DownPolicy onMasterDown,
        Duration probeInterval,
        Duration probeTimeout,
        Duration commandTimeout,
        Duration retryInterval,
        Path mountinfo,
        Path proc,
        Path makeConf) implements MountConfig {

    static TestMountConfig of(Map<String, MountSpec> mounts, DownPolicy policy) {
        return new TestMountConfig(mounts, policy, Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(20),
                Duration.ofHours(1), Path.of("/proc/self/mountinfo"), Path.of("/proc"),
                Path.of("/etc/portage/make.conf"));
    }
}
