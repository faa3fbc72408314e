package dev.binhost.agent.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a deploy script or tool for a test, with stdout and stderr kept apart (systemd-analyze warns on stderr). */
final class Sh {
    /** What the command did. */
    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    static final Path REPO = Path.of("").toAbsolutePath();

    private Sh() {
    }

    static Result run(List<String> argv, Map<String, String> env, int timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(REPO.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError(argv + " did not finish within " + timeoutSeconds + " s");
        }
        return new Result(p.exitValue(), out.join(), err.join());
    }

    static Result run(String... argv) throws IOException, InterruptedException {
        return run(List.of(argv), Map.of(), 120);
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (java.nio.file.Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }
}
