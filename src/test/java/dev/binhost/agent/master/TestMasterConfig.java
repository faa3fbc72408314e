package dev.binhost.agent.master;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/** A MasterConfig for plain JUnit tests, with the probes' timeouts short. */
record TestMasterConfig(String hostName, int rsyncPort, NfsCheck nfsCheck, int nfsPort, Duration connectTimeout,
        Duration readTimeout, int downAfterFailures, int upAfterSuccesses) implements MasterConfig {

    static TestMasterConfig rsyncOnly(String host, int port) {
        return new TestMasterConfig(host, port, NfsCheck.NONE, 2049, Duration.ofMillis(700), Duration.ofMillis(700), 3, 2);
    }

    @Override
    public Optional<String> hostSetting() {
        return Optional.of(hostName);
    }

    @Override
    public String rsyncModule() {
        return "portage-config";
    }

    @Override
    public int nfsVersion() {
        return 4;
    }

    @Override
    public Optional<URI> httpBinhost() {
        return Optional.empty();
    }

    @Override
    public Duration probeInterval() {
        return Duration.ofSeconds(1);
    }

    @Override
    public Duration probeJitter() {
        return Duration.ZERO;
    }
}
