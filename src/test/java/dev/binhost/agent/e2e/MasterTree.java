package dev.binhost.agent.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * A master's /etc/portage as the seed describes it: {@code 01*} files meant for slaves in make.conf/ and
 * package.*&#47; directories, the master's own {@code 02*} files, env/ synchronised whole, and nano backups
 * ({@code *~}) that must not travel. Plus a PKGDIR with a Packages index from the real fixtures.
 */
final class MasterTree {
    private MasterTree() {
    }

    /** Relative path → content of the master's tree. */
    static Map<String, String> files() {
        Map<String, String> f = new TreeMap<>();
        f.put("make.conf/01master", """
                # Make.conf for the build master - AMD Phenom 4-way
                USE="3dnow 3dnowext cleartype cmake corefonts elogind sndfile sql sse sse2 sse3 sse4a threads"
                LINGUAS="en_GB en en_US"
                L10N="en-GB en en-US"
                VIDEO_CARDS="radeon r600"
                CPU_FLAGS_X86="3dnow 3dnowext mmx mmxext popcnt sse sse2 sse3 sse4a"
                CFLAGS="-march=native -O2 -pipe"
                FEATURES="parallel-fetch userfetch userpriv nostrip buildpkg"
                EMERGE_DEFAULT_OPTS="--jobs 4 --load-average 4 --quiet-build y"
                """);
        f.put("make.conf/01master~", "# nano backup of 01master: must not reach the slave\nUSE=\"broken\"\n");
        f.put("make.conf/02master", "# the master's own overrides: not for slaves\nMAKEOPTS=\"-j5\"\n");
        f.put("package.use/01master", "app-office/libreoffice -gtk -gstreamer\napp-office/libreoffice-l10n offlinehelp\n");
        f.put("package.use/01python", "dev-lang/python sqlite\n");
        f.put("package.use/02master", "sys-devel/gcc graphite\n");
        f.put("package.accept_keywords/01master", "app-editors/neovim ~amd64\n");
        f.put("package.env/01master", "www-client/firefox no-lto.conf\n");
        f.put("package.mask/01master", ">=dev-lang/rust-1.90\n");
        f.put("env/no-lto.conf", "CFLAGS=\"${CFLAGS} -fno-lto\"\n");
        f.put("env/notes~", "a backup inside env/: excluded too\n");
        f.put("repos.conf/gentoo.conf", "[gentoo]\nlocation = /var/db/repos/gentoo\n");
        return f;
    }

    static void write(Path root) throws IOException {
        write(root, files());
    }

    /** Writes relative path → content under {@code root}. */
    static void write(Path root, Map<String, String> files) throws IOException {
        for (Map.Entry<String, String> e : files.entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, e.getValue());
        }
    }

    /** A slave's own files before any pull: its 02* overrides, which a pull must never touch. */
    static Map<String, String> slaveFiles() {
        Map<String, String> f = new TreeMap<>();
        f.put("make.conf/02slave", """
                USE="${USE} bluetooth pm-utils upower wireless -3dnow -3dnowext"
                VIDEO_CARDS="amdgpu radeonsi"
                CPU_FLAGS_X86="aes avx avx2 f16c fma3 mmx mmxext pclmul popcnt sse sse2 sse3 sse4_1 sse4_2 ssse3"
                FEATURES="parallel-fetch userfetch nostrip binpkg-logs"
                MAKEOPTS="-j2 -l2"
                """);
        f.put("package.use/02slave", "kde-plasma/powerdevil -wireless\napp-office/libreoffice -bluetooth\n");
        return f;
    }

    static void writeSlave(Path root) throws IOException {
        write(root, slaveFiles());
    }

    /** The master's PKGDIR: a real Packages index and one binary package per category directory. */
    static void writePkgdir(Path pkgdir) throws IOException {
        Files.createDirectories(pkgdir.resolve("app-misc"));
        try (var in = MasterTree.class.getResourceAsStream("/fixtures/e2e/Packages")) {
            if (in == null) {
                throw new IOException("missing test resource fixtures/e2e/Packages");
            }
            Files.write(pkgdir.resolve("Packages"), in.readAllBytes());
        }
        Files.writeString(pkgdir.resolve("app-misc/hello-1.0-1.gpkg.tar"), "binary package stand-in\n");
    }
}
