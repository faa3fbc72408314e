package dev.binhost.agent.mount;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.Checks;
import dev.binhost.agent.config.OwnedDir;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Which of the master's shares to mount where, and how the agent looks after them. */
@ConfigMapping(prefix = "binhost.mount")
public interface MountConfig extends Checked {
    /**
     * Options for an NFS share when none are given: read-only (a slave never writes the master's tree), soft with
     * a bounded timeout (a reader of a dead master gets an I/O error after about 15 s with timeo=50,retrans=2,
     * measured on a real client, instead of hanging in D state forever), retry=0 (a mount the server refuses
     * fails in about a second, not after mount(8)'s two minutes of retries: 125 s measured), and noatime/nodev/nosuid (no writes for access times, no
     * device or setuid files from another machine).
     */
    String NFS_DEFAULT_OPTIONS = "ro,soft,timeo=50,retrans=2,retry=0,noatime,nodev,nosuid";

    /** The mounts, keyed by a short name used in logs, status and the metrics' {@code mount} tag. */
    Map<String, MountSpec> mounts();

    /** What to do with the mounts when the master goes DOWN. */
    @WithDefault("release")
    DownPolicy onMasterDown();

    /** How often each mount's health is probed. */
    @WithDefault("30s")
    Duration probeInterval();

    /** How long a probe may take before the mount counts as stale (a dead server makes it hang). */
    @WithDefault("5s")
    Duration probeTimeout();

    /** Deadline of one mount or umount command. */
    @WithDefault("60s")
    Duration commandTimeout();

    /** Wait before mounting again after a failed mount or a stale release, while the master stays UP. */
    @WithDefault("5m")
    Duration retryInterval();

    /** The mount table the agent reads; never touches a mounted file system. */
    @WithDefault("/proc/self/mountinfo")
    Path mountinfo();

    /** The slave's make.conf (file or directory) the preflight reads for DISTDIR and PKGDIR. */
    @WithDefault("/etc/portage/make.conf")
    Path makeConf();

    /** keep: leave the mounts (soft options make a dead share fail, not hang); release: unmount them. */
    enum DownPolicy { KEEP, RELEASE }

    /** One mount: either a target listed in /etc/fstab, or source, type and options given here. */
    interface MountSpec {
        /** The mount point on the slave, e.g. /var/cache/binpkgs. */
        Path target();

        /** true: run {@code mount TARGET} and let /etc/fstab say the rest (as the seed does). */
        @WithDefault("false")
        boolean fstab();

        /** e.g. master:/var/cache/binpkgs; required unless fstab=true. */
        Optional<String> source();

        /** File system type; nfs4 unless said otherwise. "none" with the bind option for a bind mount. */
        Optional<String> type();

        /** Mount options; for NFS, {@link MountConfig#NFS_DEFAULT_OPTIONS} when not given, else "ro". */
        Optional<String> options();

        default String effectiveType() {
            return type().orElse("nfs4");
        }

        default String effectiveOptions() {
            return options().orElse(effectiveType().startsWith("nfs") ? NFS_DEFAULT_OPTIONS : "ro");
        }

        default boolean readOnly() {
            return fstab() ? false : List.of(effectiveOptions().split(",")).contains("ro");
        }
    }

    @Override
    default List<OwnedDir.Use> paths(AgentConfig agent) {
        return mounts().entrySet().stream().map(e -> OwnedDir.Use.of("binhost.mount.mounts." + e.getKey()
                + ".target", e.getValue().target(), OwnedDir.Kind.LIVE)).toList();
    }

    @Override
    default List<String> problems() {
        List<String> p = new ArrayList<>();
        Map<Path, String> targets = new HashMap<>();
        mounts().forEach((name, spec) -> {
            String key = "binhost.mount.mounts." + name;
            if (!name.matches("[a-z0-9][a-z0-9_-]{0,31}")) {
                p.add(key + ": the name must be 1-32 lower-case letters, digits, '-' or '_'");
            }
            Path target = spec.target();
            if (!target.isAbsolute() || target.normalize().getNameCount() == 0 || !target.normalize().equals(target)) {
                p.add(key + ".target: must be an absolute, normalised path other than /, was " + target);
            }
            String other = targets.put(target.normalize(), name);
            if (other != null) {
                p.add(key + ".target: " + target + " is also the target of mount '" + other + "'");
            }
            if (spec.fstab()) {
                if (spec.source().isPresent() || spec.type().isPresent() || spec.options().isPresent()) {
                    p.add(key + ": fstab=true takes source, type and options from /etc/fstab; remove them here");
                }
            } else {
                if (spec.source().filter(s -> !s.isBlank()).isEmpty()) {
                    p.add(key + ".source: required unless fstab=true (e.g. master:/var/cache/binpkgs)");
                }
                if (spec.effectiveOptions().isBlank() || spec.effectiveOptions().contains(" ")) {
                    p.add(key + ".options: must be a comma-separated list without spaces, was '"
                            + spec.effectiveOptions() + "'");
                }
            }
        });
        Checks.positive(p, "binhost.mount.probe-interval", probeInterval());
        Checks.positive(p, "binhost.mount.probe-timeout", probeTimeout());
        Checks.positive(p, "binhost.mount.command-timeout", commandTimeout());
        Checks.positive(p, "binhost.mount.retry-interval", retryInterval());
        if (probeTimeout().compareTo(probeInterval()) >= 0) {
            p.add("binhost.mount.probe-timeout: must be shorter than probe-interval (" + probeInterval() + "), was "
                    + probeTimeout());
        }
        return p;
    }
}
