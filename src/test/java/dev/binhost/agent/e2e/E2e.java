package dev.binhost.agent.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Shared bits of the end-to-end scenarios: the installed JVM flags, polling helpers, measured figures. */
final class E2e {
    /** The launcher's daemon flags (deploy/bin/binhost-agent): the agent runs here as it runs when installed. */
    static final List<String> INSTALLED_JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-Xss256k",
            "-XX:+UseSerialGC", "-Xmx64m", "-XX:MaxMetaspaceSize=96m");
    private static final Path FIGURES = Path.of(System.getProperty("user.dir"), "target", "e2e-figures.txt");

    private E2e() {
    }

    /** A condition that may do I/O; an I/O error counts as "not yet". */
    interface IoCondition {
        boolean test() throws IOException, InterruptedException;
    }

    static BooleanSupplier quiet(IoCondition c) {
        return () -> {
            try {
                return c.test();
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        };
    }

    /** Prints a measured figure and appends it to target/e2e-figures.txt for the report. */
    static void figure(String what, Duration d) {
        figure(what, (Object) (d.toMillis() + " ms"));
    }

    static void figure(String what, double value) {
        figure(what, (Object) (value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value)));
    }

    static void figure(String what, Object value) {
        String line = "e2e figure: " + what + ": " + value;
        System.out.println(line);
        try {
            Files.createDirectories(FIGURES.getParent());
            Files.writeString(FIGURES, line + System.lineSeparator(), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("could not record the figure: " + e);
        }
    }
}
