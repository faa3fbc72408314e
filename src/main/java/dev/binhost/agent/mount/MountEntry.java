package dev.binhost.agent.mount;

import java.nio.file.Path;
import java.util.List;

/**
 * One line of {@code /proc/PID/mountinfo} (see proc(5)): who is mounted where, with which options.
 * {@code root} is the directory of the source file system that appears at {@code mountPoint}; it is not "/"
 * for a bind mount of a subdirectory.
 */
public record MountEntry(
        int mountId,
        int parentId,
        String device,
        String root,
        Path mountPoint,
        List<String> mountOptions,
        List<String> optionalFields,
        String fsType,
        String source,
        List<String> superOptions) {

    public MountEntry {
        mountOptions = List.copyOf(mountOptions);
        optionalFields = List.copyOf(optionalFields);
        superOptions = List.copyOf(superOptions);
    }

    /** Read-only for writers through this mount point (per-mount "ro" or a read-only super block). */
    public boolean readOnly() {
        return mountOptions.contains("ro") || superOptions.contains("ro");
    }

    public boolean isNfs() {
        return fsType.equals("nfs") || fsType.equals("nfs4");
    }

    public boolean isFuse() {
        return fsType.equals("fuse") || fsType.startsWith("fuse.") || fsType.equals("fuseblk");
    }

    /** For logs and errors: "master:/var/cache/binpkgs (nfs4, mount id 41)". */
    public String describe() {
        String what = root.equals("/") ? source : source + "[" + root + "]";
        return what + " (" + fsType + ", mount id " + mountId + ")";
    }
}
