package dev.binhost.agent.master;

import dev.binhost.agent.config.Checked;
import dev.binhost.agent.config.Checks;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Which master to watch and how: the services a slave needs, probed with timeouts and hysteresis. */
@ConfigMapping(prefix = "binhost.master")
public interface MasterConfig extends Checked {
    /** Host name or address of the build master. No default: a slave must say which master it follows. */
    @WithName("host")
    Optional<String> hostSetting();

    /** The master's host, or "" when unset ({@link #problems()} reports that). */
    default String host() {
        return hostSetting().orElse("");
    }

    /** Port of the master's rsync daemon (serves the portage-config module). */
    @WithDefault("873")
    int rsyncPort();

    /** The rsyncd module that exports the master's /etc/portage. */
    @WithDefault("portage-config")
    String rsyncModule();

    /** How to check the NFS server: rpc (RPC NULL call), tcp (port accepts) or none (no NFS share). */
    @WithDefault("rpc")
    NfsCheck nfsCheck();

    @WithDefault("2049")
    int nfsPort();

    /** NFS protocol version asked for in the RPC NULL call. */
    @WithDefault("4")
    int nfsVersion();

    /** An HTTP(S) binhost URL to probe as well (e.g. http://master/packages/Packages), if the master has one. */
    Optional<URI> httpBinhost();

    @WithDefault("30s")
    Duration probeInterval();

    /** Random extra delay (0..jitter) before each probe, so a fleet does not probe in lock step. */
    @WithDefault("5s")
    Duration probeJitter();

    @WithDefault("3s")
    Duration connectTimeout();

    @WithDefault("5s")
    Duration readTimeout();

    /** Failed probe rounds in a row before an UP master is declared DOWN. */
    @WithDefault("3")
    int downAfterFailures();

    /** Good probe rounds in a row before a DOWN master is declared UP again. */
    @WithDefault("2")
    int upAfterSuccesses();

    /** Upper bound of one probe round: every probe's connect plus read timeout. */
    default Duration probeTimeout() {
        return connectTimeout().plus(readTimeout());
    }

    enum NfsCheck { RPC, TCP, NONE }

    @Override
    default List<String> problems() {
        List<String> p = new ArrayList<>();
        if (hostSetting().isEmpty()) {
            p.add("binhost.master.host: missing; set it to the master's host name or address in "
                    + dev.binhost.agent.config.AgentConfigFile.location());
        } else {
            Checks.host(p, "binhost.master.host", host());
        }
        Checks.port(p, "binhost.master.rsync-port", rsyncPort());
        Checks.port(p, "binhost.master.nfs-port", nfsPort());
        if (nfsVersion() < 2 || nfsVersion() > 4) {
            p.add("binhost.master.nfs-version: must be 2, 3 or 4, was " + nfsVersion());
        }
        if (rsyncModule().isBlank() || rsyncModule().contains("/")) {
            p.add("binhost.master.rsync-module: must be a module name without '/', was '" + rsyncModule() + "'");
        }
        httpBinhost().ifPresent(uri -> {
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                    || uri.getHost() == null) {
                p.add("binhost.master.http-binhost: must be an http:// or https:// URL with a host, was "
                        + HttpProbe.redacted(uri));
            }
        });
        Checks.positive(p, "binhost.master.probe-interval", probeInterval());
        Checks.notNegative(p, "binhost.master.probe-jitter", probeJitter());
        Checks.positive(p, "binhost.master.connect-timeout", connectTimeout());
        Checks.positive(p, "binhost.master.read-timeout", readTimeout());
        Checks.atLeast(p, "binhost.master.down-after-failures", downAfterFailures(), 1);
        Checks.atLeast(p, "binhost.master.up-after-successes", upAfterSuccesses(), 1);
        return p;
    }
}
