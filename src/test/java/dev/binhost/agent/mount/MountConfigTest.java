package dev.binhost.agent.mount;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MountConfigTest {
    private static MountConfig load(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(MountConfig.class)
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 100))
                .build();
        return config.getConfigMapping(MountConfig.class);
    }

    @Test
    void noMountsConfigured_isValidAndEmpty() {
        MountConfig c = load(Map.of());
        assertTrue(c.mounts().isEmpty());
        assertEquals(List.of(), c.problems());
        assertEquals(MountConfig.DownPolicy.RELEASE, c.onMasterDown());
        assertEquals(Path.of("/proc/self/mountinfo"), c.mountinfo());
    }

    @Test
    void nfsMountWithoutOptions_getsTheSafeReadOnlySoftDefaults() {
        MountConfig c = load(Map.of(
                "binhost.mount.mounts.packages.target", "/var/cache/binpkgs",
                "binhost.mount.mounts.packages.source", "master:/var/cache/binpkgs",
                "binhost.mount.mounts.portage.target", "/usr/portage",
                "binhost.mount.mounts.portage.fstab", "true",
                "binhost.mount.on-master-down", "keep"));
        MountConfig.MountSpec packages = c.mounts().get("packages");
        assertEquals("nfs4", packages.effectiveType());
        assertEquals(List.of("mount", "-t", "nfs4", "-o", "ro,soft,timeo=50,retrans=2,retry=0,noatime,nodev,nosuid",
                "master:/var/cache/binpkgs", "/var/cache/binpkgs"), MountManager.mountArgv(packages));
        assertTrue(packages.readOnly());
        assertEquals(List.of("mount", "/usr/portage"), MountManager.mountArgv(c.mounts().get("portage")));
        assertEquals(MountConfig.DownPolicy.KEEP, c.onMasterDown());
        assertEquals(List.of(), c.problems());
    }

    @Test
    void badMounts_eachProblemNamesItsKey() {
        MountConfig c = load(Map.of(
                "binhost.mount.mounts.a.target", "relative/dir",
                "binhost.mount.mounts.b.target", "/var/cache/binpkgs",
                "binhost.mount.mounts.c.target", "/var/cache/binpkgs",
                "binhost.mount.mounts.c.source", "master:/x",
                "binhost.mount.mounts.c.fstab", "true",
                "binhost.mount.mounts.Bad.target", "/mnt/x",
                "binhost.mount.mounts.Bad.source", "m:/x",
                "binhost.mount.probe-timeout", "1m"));
        List<String> p = c.problems();
        assertTrue(p.contains("binhost.mount.mounts.a.target: must be an absolute, normalised path other than /, was "
                + "relative/dir"), p.toString());
        assertTrue(p.contains("binhost.mount.mounts.a.source: required unless fstab=true "
                + "(e.g. master:/var/cache/binpkgs)"), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.matches("binhost\\.mount\\.mounts\\.[bc]\\.target: /var/cache/binpkgs "
                + "is also the target of mount '[bc]'")), p.toString());
        assertTrue(p.contains("binhost.mount.mounts.c: fstab=true takes source, type and options from /etc/fstab; "
                + "remove them here"), p.toString());
        assertTrue(p.contains("binhost.mount.mounts.Bad: the name must be 1-32 lower-case letters, digits, '-' or '_'"),
                p.toString());
        assertTrue(p.contains("binhost.mount.probe-timeout: must be shorter than probe-interval (PT30S), was PT1M"),
                p.toString());
    }
}
