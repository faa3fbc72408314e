package dev.binhost.agent.binhost;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import dev.binhost.agent.config.Checked;
import dev.binhost.agent.master.HttpProbe;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How this slave gets the master's binary packages: {@code nfs} (the seed's way: the master's PKGDIR mounted
 * here, see {@code binhost.mount.*}) or {@code http} (Portage fetches them from the master's binhost with
 * {@code --getbinpkg}, through a {@code binrepos.conf} entry, and verifies their signatures).
 */
@ConfigMapping(prefix = "binhost.packages")
public interface PackagesConfig extends Checked {
    Pattern REPO_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    @WithDefault("nfs")
    Transport transport();

    /**
     * The master's binhost: the URL its PKGDIR is served at, the directory holding {@code Packages}
     * (e.g. http://master.lan/binpkgs). Required for {@code http}.
     */
    Optional<URI> url();

    /** Portage's binrepos.conf, a file or a directory of {@code *.conf} files. */
    @WithDefault("/etc/portage/binrepos.conf")
    Path binrepos();

    /**
     * true: the agent keeps an entry of its own, {@code <binrepos>/<repo-name>.conf}, and never touches the
     * admin's files; false: it uses the admin's entry whose sync-uri is {@link #url()}, and says so when none is.
     */
    @WithDefault("true")
    boolean manageBinrepos();

    /** The section name of the agent's entry, and its file name. */
    @WithDefault("binhost-agent")
    String repoName();

    /** The entry's priority (Portage prefers the higher one among binhosts offering the same package). */
    @WithDefault("10")
    int priority();

    /** The entry's verify-signature; unset leaves Portage's default (on since 3.0.78 for binhosts). */
    Optional<Boolean> verifySignature();

    /** Where Portage keeps the keys it trusts for binary packages (PORTAGE_GPG_DIR). */
    @WithDefault("/etc/portage/gnupg")
    Path gnupgDir();

    /** GnuPG, which {@code check} asks which keys in {@link #gnupgDir()} are trusted. */
    @WithDefault("/usr/bin/gpg")
    List<String> gpgCommand();

    /**
     * A run in which a binary failed its signature or digest check: {@code fail} (the run fails, naming the
     * package and why) or {@code build-locally} (the failed run is followed, once, by a {@code @world} run that
     * builds that package here with {@code --usepkg-exclude}, fetching the rest; not under binaries only).
     */
    @WithDefault("fail")
    OnBadBinary onBadBinary();

    /**
     * Quartz cron of the download-only step ({@code emerge --getbinpkg --fetchonly}, http only), so the later
     * install needs no network; unset for none. It runs only on mains power and while the binhost is UP.
     */
    Optional<String> prefetchCron();

    /** The prefetch's deadline: past it, emerge --fetchonly is ended (what it fetched stays for the install). */
    @WithDefault("2h")
    java.time.Duration prefetchDeadline();

    /**
     * Where Portage keeps the binaries it fetched from this binhost, which the prefetch counts; unset: the binrepos
     * entry's {@code location}, else /var/cache/binhost/&lt;entry name&gt; (Portage's default).
     */
    Optional<Path> downloadDir();

    /** Largest Packages index read from the binhost. */
    @WithDefault("67108864")
    long indexMaxBytes();

    enum Transport { NFS, HTTP }

    enum OnBadBinary { FAIL, BUILD_LOCALLY }

    default boolean http() {
        return transport() == Transport.HTTP;
    }

    /** The index URL: {@code <url>/Packages}. */
    default URI indexUrl() {
        String base = url().orElseThrow().toString();
        return URI.create(base.endsWith("/") ? base + "Packages" : base + "/Packages");
    }

    /** The agent's own binrepos.conf entry. */
    default Path ownEntry() {
        return binrepos().resolve(repoName() + ".conf");
    }

    @Override
    default List<String> problems() {
        List<String> p = new ArrayList<>();
        url().ifPresent(uri -> {
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                    || uri.getHost() == null) {
                p.add("binhost.packages.url: must be an http:// or https:// URL with a host, was "
                        + HttpProbe.redacted(uri));
            } else if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
                p.add("binhost.packages.url: the binhost's directory, without ?query or #fragment, was "
                        + HttpProbe.redacted(uri));
            } else if (uri.getPath() != null && uri.getPath().endsWith("/Packages")) {
                p.add("binhost.packages.url: the directory that holds Packages, not the index itself, was "
                        + HttpProbe.redacted(uri));
            }
        });
        if (http() && url().isEmpty()) {
            p.add("binhost.packages.url: missing; binhost.packages.transport=http needs the master's binhost URL"
                    + " (where its PKGDIR is served, e.g. http://master.lan/binpkgs)");
        }
        if (!REPO_NAME.matcher(repoName()).matches()) {
            p.add("binhost.packages.repo-name: letters, digits, '.', '_' and '-' (a binrepos.conf section and file"
                    + " name), was '" + repoName() + "'");
        }
        if (indexMaxBytes() < 4096) {
            p.add("binhost.packages.index-max-bytes: at least 4096, was " + indexMaxBytes());
        }
        if (onBadBinary() == OnBadBinary.BUILD_LOCALLY && !http()) {
            p.add("binhost.packages.on-bad-binary: build-locally is for binaries fetched from an http binhost;"
                    + " set binhost.packages.transport=http or remove it");
        }
        prefetchCron().ifPresent(cron -> {
            if (!http()) {
                p.add("binhost.packages.prefetch-cron: downloads come only from an http binhost;"
                        + " set binhost.packages.transport=http or remove it");
            }
            try {
                new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ)).parse(cron).validate();
            } catch (IllegalArgumentException e) {
                p.add("binhost.packages.prefetch-cron: not a cron expression (seconds minutes hours day month"
                        + " weekday), was '" + cron + "': " + e.getMessage());
            }
        });
        if (prefetchDeadline().isNegative() || prefetchDeadline().isZero()) {
            p.add("binhost.packages.prefetch-deadline: must be positive, was " + prefetchDeadline());
        }
        downloadDir().filter(d -> !d.isAbsolute()).ifPresent(d -> p.add(
                "binhost.packages.download-dir: must be an absolute path, was '" + d + "'"));
        return p;
    }
}
