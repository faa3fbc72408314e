package dev.binhost.agent.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** Generates random master /etc/portage trees with the corner cases the seed's three calls treat unevenly. */
final class MasterTrees {
    private static final List<String> FILES = List.of("01master", "01a b", "01ünïcödé", "01x~", "02slave",
            "02x", "other", "README", "foo~", "01", "make.conf", "package.use", "env", "01dir.d", "~01");
    private static final List<String> DIRS = List.of("package.use", "package.accept_keywords", "package.env",
            "package.", "make.conf", "env", "01sub", "01 späce", "02sub", "other.d", "package.use~", "01bak~",
            "repos.conf");

    private MasterTrees() {
    }

    /** Writes one random tree under {@code root}; the same seed gives the same tree. */
    static void generate(Path root, long seed) throws IOException {
        Random r = new Random(seed);
        Files.createDirectories(root);
        Set<String> top = new HashSet<>();
        if (r.nextInt(10) < 7) {
            top.add("env");
            fill(root.resolve("env"), r, 2, true);
        }
        if (r.nextInt(5) == 0) {
            top.add("make.conf");
            file(root.resolve("make.conf"), r);
        }
        int entries = 2 + r.nextInt(6);
        for (int i = 0; i < entries; i++) {
            entry(root, r, top, 3);
        }
        for (String d : List.of("package.use", "make.conf")) {
            if (top.add(d)) {
                fill(root.resolve(d), r, 2, false);
            }
        }
    }

    private static void fill(Path dir, Random r, int depth, boolean anything) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Set<String> names = new HashSet<>();
        int n = r.nextInt(6);
        for (int i = 0; i < n; i++) {
            if (anything && r.nextInt(4) == 0) {
                String name = "f" + r.nextInt(50) + (r.nextBoolean() ? "" : "~");
                if (names.add(name)) {
                    file(dir.resolve(name), r);
                }
            } else {
                entry(dir, r, names, depth);
            }
        }
    }

    private static void entry(Path dir, Random r, Set<String> names, int depth) throws IOException {
        if (depth > 0 && r.nextInt(3) == 0) {
            String name = DIRS.get(r.nextInt(DIRS.size()));
            if (names.add(name)) {
                fill(dir.resolve(name), r, depth - 1, false);
            }
        } else {
            String name = FILES.get(r.nextInt(FILES.size()));
            if (names.add(name)) {
                file(dir.resolve(name), r);
            }
        }
    }

    private static void file(Path path, Random r) throws IOException {
        StringBuilder text = new StringBuilder("# ").append(path.getFileName()).append('\n');
        int lines = r.nextInt(5);
        for (int i = 0; i < lines; i++) {
            text.append("cat-").append(r.nextInt(100)).append("/pkg-").append(r.nextInt(100)).append(" flag")
                    .append(r.nextInt(10)).append('\n');
        }
        Files.write(path, text.toString().getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-r--r--"));
    }
}
