package dev.binhost.agent.binhost;

import dev.binhost.agent.config.AgentConfig;
import dev.binhost.agent.config.AgentConfigFile;
import dev.binhost.agent.master.HttpProbe;
import dev.binhost.agent.master.MasterConfig;
import dev.binhost.agent.master.Probe;
import dev.binhost.agent.spi.RunPrecondition;
import dev.binhost.agent.spi.StatusContributor;
import dev.binhost.agent.spi.Verdict;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where this slave's binary packages come from. For {@code nfs} nothing here acts (the mounts do the work); for
 * {@code http} it owns the binhost's index probe (part of the master watch, so readiness includes it), the
 * binrepos.conf entry (checked and, when managed, written before every run as the precondition
 * {@code binrepos}), emerge's {@code --getbinpkg} arguments, and the status section {@code binhost}.
 */
@ApplicationScoped
public class Binhost implements StatusContributor {
    private final PackagesConfig config;
    private final Clock clock;
    private final BinhostIndexProbe probe;
    private volatile Binrepos.Ensured binrepos;

    @Inject
    public Binhost(PackagesConfig config, AgentConfig agent, MasterConfig master, Clock clock) {
        this(config, agent.stateDir(), master.connectTimeout(), master.readTimeout(), clock);
    }

    public Binhost(PackagesConfig config, Path stateDir, Duration connectTimeout, Duration readTimeout, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.probe = config.http() && config.url().isPresent()
                ? new BinhostIndexProbe(config.indexUrl(), stateDir.resolve("binhost").resolve("Packages"),
                        config.indexMaxBytes(), connectTimeout, readTimeout, clock)
                : null;
    }

    public PackagesConfig config() {
        return config;
    }

    public boolean http() {
        return probe != null;
    }

    /** The index probe the master watch runs, for an http binhost. */
    public Optional<Probe> probe() {
        return Optional.ofNullable(probe);
    }

    /** The last good copy of the binhost's index, which the reasons for local builds read instead of PKGDIR's. */
    public Optional<Path> remoteIndex() {
        return probe == null ? Optional.empty() : Optional.of(probe.copy());
    }

    /** emerge's arguments for this transport. */
    public List<String> args(List<String> args) {
        return probe == null ? args : TransportArgs.http(args);
    }

    /**
     * Where Portage keeps what it fetches from this binhost: {@code binhost.packages.download-dir}, else the
     * entry's {@code location}, else Portage's default {@code /var/cache/binhost/<entry name>} (under
     * {@code eroot}). The admin's entry is looked up by its sync-uri; when none is found, the agent's name is used.
     */
    public Path downloadDir(Path eroot) {
        if (config.downloadDir().isPresent()) {
            return config.downloadDir().get();
        }
        String name = config.repoName();
        if (!config.manageBinrepos()) {
            try {
                Optional<Binrepos.Section> admin = Binrepos.read(config.binrepos()).stream()
                        .filter(s -> s.syncUri().map(u -> Binrepos.sameBinhost(u, config.url().orElseThrow()))
                                .orElse(false))
                        .findFirst();
                if (admin.isPresent()) {
                    String location = admin.get().values().get("location");
                    if (location != null && !location.isBlank()) {
                        return eroot.resolve(Path.of("/").relativize(Path.of(location.strip()).toAbsolutePath()));
                    }
                    name = admin.get().name();
                }
            } catch (java.io.IOException e) {
                Log.debugf("cannot read %s for the download directory: %s", config.binrepos(), e.getMessage());
            }
        }
        return eroot.resolve("var/cache/binhost").resolve(name);
    }

    /** The run precondition {@code binrepos}, for an http binhost. */
    public Optional<RunPrecondition> precondition() {
        if (probe == null) {
            return Optional.empty();
        }
        return Optional.of(new RunPrecondition() {
            @Override
            public String name() {
                return "binrepos";
            }

            @Override
            public Verdict check() {
                Binrepos.Ensured e = ensure();
                return e.ok() ? Verdict.ok(e.detail()) : Verdict.no(e.detail());
            }
        });
    }

    /** Checks (and when managed, writes) the binrepos.conf entry now. */
    public Binrepos.Ensured ensure() {
        Binrepos.Ensured e = Binrepos.ensure(config, AgentConfigFile.location().toString());
        if (e.written()) {
            Log.infof("binrepos.conf: %s", e.detail());
        } else if (!e.ok()) {
            Log.warnf("binrepos.conf: %s", e.detail());
        }
        binrepos = e;
        return e;
    }

    @Override
    public String section() {
        return "binhost";
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("transport", config.transport().name().toLowerCase());
        if (probe == null) {
            return m;
        }
        m.put("url", HttpProbe.redacted(config.url().orElseThrow()));
        Map<String, Object> index = new LinkedHashMap<>();
        probe.seen().ifPresentOrElse(s -> {
            index.put("timestamp", s.written().toString());
            index.put("ageSeconds", Math.max(0, Duration.between(s.written(), clock.instant()).toSeconds()));
            index.put("packages", s.packages());
            index.put("checkedAt", s.checkedAt().toString());
        }, () -> index.put("checkedAt", null));
        m.put("index", index);
        Binrepos.Ensured e = binrepos;
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("managed", config.manageBinrepos());
        b.put("ok", e == null ? null : e.ok());
        b.put("detail", e == null ? "not checked yet (checked before each run)" : e.detail());
        m.put("binrepos", b);
        return m;
    }
}
