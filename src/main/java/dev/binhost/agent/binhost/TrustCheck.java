package dev.binhost.agent.binhost;

import dev.binhost.agent.master.HttpProbe;
import dev.binhost.agent.portage.Finding;
import dev.binhost.agent.process.Command;
import dev.binhost.agent.process.CommandResult;
import dev.binhost.agent.process.ProcessRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code binhost-agent check} on the binaries' trust: the binrepos.conf entry (and each binhost's
 * verify-signature), and, where Portage verifies signatures (an http binhost that does, or an NFS PKGDIR with
 * {@code FEATURES=binpkg-request-signature}), whether {@code PORTAGE_GPG_DIR} is there, safe and holds a key
 * GnuPG calls valid (full or ultimate), which Portage's verification demands.
 */
public final class TrustCheck {
    private TrustCheck() {
    }

    /** A key GnuPG lists: its fingerprint-less id, its validity letter and its first user id. */
    public record Key(String id, char validity, String user) {
        public boolean valid() {
            return validity == 'f' || validity == 'u';
        }
    }

    public static List<Finding> run(PackagesConfig c, Map<String, String> makeConf, String configFile,
            ProcessRunner runner) throws InterruptedException {
        List<Finding> out = new ArrayList<>();
        boolean verifies;
        if (c.http()) {
            Binrepos.Ensured e = Binrepos.ensure(c, configFile, false);
            if (!e.ok()) {
                out.add(Finding.problem("binrepos.conf", e.detail(),
                        "the agent cannot fetch binaries until Portage has an entry for "
                                + HttpProbe.redacted(c.url().orElseThrow())));
            }
            List<Binrepos.Section> sections;
            try {
                sections = Binrepos.read(c.binrepos());
            } catch (IOException ex) {
                sections = List.of();
            }
            boolean ownVerifies = c.manageBinrepos() ? c.verifySignature().orElse(true)
                    : sections.stream().filter(s -> s.syncUri().map(u -> Binrepos.sameBinhost(u, c.url().get()))
                            .orElse(false)).findFirst().map(Binrepos.Section::verifiesSignatures).orElse(true);
            for (Binrepos.Section s : sections) {
                if (!s.verifiesSignatures()) {
                    out.add(Finding.advice("verify-signature", "[" + s.name() + "] in " + s.file()
                                    + ": binaries from " + s.syncUri().map(HttpProbe::scrubbed).orElse("?")
                                    + " are installed without checking their signatures",
                            "sign them on the master (FEATURES=binpkg-signing, BINPKG_FORMAT=gpkg), trust its key in "
                                    + c.gnupgDir() + ", then drop verify-signature = false"));
                }
            }
            if (c.manageBinrepos() && !ownVerifies) {
                out.add(Finding.advice("verify-signature", "binhost.packages.verify-signature=false: binaries from "
                                + HttpProbe.redacted(c.url().get()) + " are installed without checking their signatures",
                        "sign them on the master and trust its key, then remove the setting"));
            }
            verifies = ownVerifies;
        } else {
            verifies = List.of(makeConf.getOrDefault("FEATURES", "").split("\\s+")).contains("binpkg-request-signature");
        }
        if (verifies) {
            out.addAll(gnupg(c, runner));
        }
        return out;
    }

    /** The state of PORTAGE_GPG_DIR, for a slave whose Portage verifies signatures. */
    static List<Finding> gnupg(PackagesConfig c, ProcessRunner runner) throws InterruptedException {
        Path dir = c.gnupgDir();
        String how = "import the master's signing key and trust it: gpg --homedir " + dir + " --import master.asc;"
                + " gpg --homedir " + dir + " --quick-lsign-key <fingerprint> (or set its ownertrust)";
        if (!Files.isDirectory(dir)) {
            return List.of(Finding.problem("gnupg", dir + " does not exist: Portage refuses every signed binary"
                    + " (and every unsigned one from a binhost that verifies)", how));
        }
        List<Finding> out = new ArrayList<>();
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
                out.add(Finding.problem("gnupg", dir + " is writable by group or others: anyone who can write it can"
                        + " make Portage trust their key", "chmod go-w " + dir));
            }
            // Portage runs gpg --verify as GPG_VERIFY_USER_DROP (nobody): a home only root can read holds no key
            // for it, and every binary fails "signed with at least one unknown key" (seen with the real Portage)
            List<String> unreadable = new ArrayList<>();
            if (!(mode.contains(PosixFilePermission.OTHERS_READ) && mode.contains(PosixFilePermission.OTHERS_EXECUTE))) {
                unreadable.add(dir.toString());
            }
            for (String f : List.of("pubring.kbx", "pubring.gpg", "trustdb.gpg")) {
                Path file = dir.resolve(f);
                if (Files.isRegularFile(file)
                        && !Files.getPosixFilePermissions(file).contains(PosixFilePermission.OTHERS_READ)) {
                    unreadable.add(file.toString());
                }
            }
            if (!unreadable.isEmpty()) {
                out.add(Finding.problem("gnupg", String.join(", ", unreadable) + " not readable by others: Portage"
                        + " verifies signatures as user nobody (GPG_VERIFY_USER_DROP), who then finds no key and"
                        + " refuses every binary (binpkg signed with at least one unknown key)", "chmod -R o+rX "
                        + dir + " (keys are public; keep it not writable by group or others)"));
            }
        } catch (IOException | UnsupportedOperationException e) {
            out.add(Finding.problem("gnupg", "cannot read the mode of " + dir + ": " + e.getMessage(),
                    "make it readable by root"));
        }
        List<String> argv = new ArrayList<>(c.gpgCommand());
        argv.addAll(List.of("--homedir", dir.toString(), "--batch", "--no-tty", "--with-colons", "--list-keys"));
        CommandResult r;
        try {
            ProcessRunner.resolve(argv.get(0), Map.of());
            r = runner.run(Command.of("gpg", argv).deadline(Duration.ofSeconds(20)).build());
        } catch (IOException e) {
            out.add(Finding.problem("gnupg", "cannot run " + argv.get(0) + ": " + e.getMessage(),
                    "install app-crypt/gnupg (Portage needs it to verify binaries) or set binhost.packages.gpg-command"));
            return out;
        }
        if (!r.succeeded() && !r.outputTail().contains("pub:")) {
            out.add(Finding.problem("gnupg", "gpg --list-keys in " + dir + ": " + r.summary() + ": " + r.lastLine(),
                    how));
            return out;
        }
        List<Key> keys = keys(r.outputTail());
        if (keys.stream().noneMatch(Key::valid)) {
            out.add(Finding.problem("gnupg", keys.isEmpty() ? "no key in " + dir
                            : "no key in " + dir + " is valid to GnuPG (full or ultimate): "
                                    + keys.stream().map(k -> k.id() + " " + k.user() + " (validity " + k.validity() + ")")
                                    .toList(),
                    how));
        }
        return out;
    }

    /** The public keys of {@code gpg --with-colons --list-keys}: a {@code pub} record, then its first {@code uid}. */
    static List<Key> keys(String colons) {
        List<Key> out = new ArrayList<>();
        String id = null;
        char validity = '-';
        for (String line : colons.split("\n")) {
            String[] f = line.strip().split(":", -1);
            if (f[0].equals("pub") && f.length > 4) {
                if (id != null) {
                    out.add(new Key(id, validity, ""));
                }
                id = f[4];
                validity = f[1].isEmpty() ? '-' : f[1].charAt(0);
            } else if (f[0].equals("uid") && id != null && f.length > 9) {
                out.add(new Key(id, validity, f[9]));
                id = null;
            }
        }
        if (id != null) {
            out.add(new Key(id, validity, ""));
        }
        return out;
    }
}
