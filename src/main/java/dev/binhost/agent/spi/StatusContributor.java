package dev.binhost.agent.spi;

import java.util.Map;

/** A section of {@code binhost-agent status}: each feature reports its own state as plain values. */
public interface StatusContributor {
    /** Section name: "master", "mounts", "config", "update". */
    String section();

    /** Values that serialise to JSON: strings, numbers, booleans, lists and maps of them. */
    Map<String, Object> status();
}
