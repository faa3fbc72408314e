package dev.binhost.agent.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The agent as it is installed: {@code target/quarkus-app/quarkus-run.jar}. The test phase runs before Maven's
 * package phase, so the rig builds the jar with the project's wrapper when it is missing or older than the
 * sources, once per test JVM.
 */
final class AgentJar {
    static final Path BASE = Path.of(System.getProperty("user.dir"));
    private static final Path JAR = BASE.resolve("target/quarkus-app/quarkus-run.jar");
    private static final Path APP = BASE.resolve("target/quarkus-app/app");
    private static Path built;

    private AgentJar() {
    }

    /** The java launcher of the JVM running the tests, so the agent runs on the same JDK. */
    static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    static synchronized Path ensureBuilt() throws IOException {
        if (built != null) {
            return built;
        }
        if (!Files.exists(JAR) || newest(APP).compareTo(newest(BASE.resolve("src/main"))) < 0
                || newest(APP).compareTo(Files.getLastModifiedTime(BASE.resolve("pom.xml"))) < 0) {
            Path log = BASE.resolve("target/e2e-package.log");
            Process p = new ProcessBuilder(BASE.resolve("mvnw").toString(), "-B", "-q", "package", "-DskipTests")
                    .directory(BASE.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                    p.destroyForcibly();
                    throw new IOException("building the agent jar failed; see " + log + "\n" + Files.readString(log));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
                throw new IOException("interrupted while building the agent jar", e);
            }
        }
        built = JAR;
        return built;
    }

    private static FileTime newest(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return FileTime.fromMillis(0);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).map(f -> {
                try {
                    return Files.getLastModifiedTime(f);
                } catch (IOException e) {
                    return FileTime.fromMillis(0);
                }
            }).max(FileTime::compareTo).orElse(FileTime.fromMillis(0));
        }
    }
}
