package dev.binhost.agent.mount;

import java.nio.file.Path;
import java.util.Optional;

/** A mount spec built in code, as SmallRye would from properties. */
record TestSpec(Path target, boolean fstab, String src, String fsType, String opts) implements MountConfig.MountSpec {
    static TestSpec fstab(Path target) {
        return new TestSpec(target, true, null, null, null);
    }

    @Override
    public Optional<String> source() {
        return Optional.ofNullable(src);
    }

    @Override
    public Optional<String> type() {
        return Optional.ofNullable(fsType);
    }

    @Override
    public Optional<String> options() {
        return Optional.ofNullable(opts);
    }
}
