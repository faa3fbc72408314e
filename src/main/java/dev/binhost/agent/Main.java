package dev.binhost.agent;

import dev.binhost.agent.cli.Cli;
import dev.binhost.agent.config.AgentConfigFile;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Entry point: {@code status}, {@code trigger}, {@code history} and {@code check} are answered by the CLI
 * before Quarkus starts (a client needs no server); without arguments, or with {@code run}, the agent runs.
 */
@QuarkusMain
public class Main {
    /** sysexits.h EX_CONFIG: the configuration is wrong. */
    public static final int EXIT_CONFIG = 78;
    /** sysexits.h EX_TEMPFAIL: another agent holds the state directory; try again once it has stopped. */
    public static final int EXIT_LOCKED = 75;

    public static void main(String... args) {
        if (Cli.handles(args)) {
            System.exit(Cli.main(args));
        }
        // The agent takes its state directory's flock early in start-up; the native binding it needs takes longer
        // to build than most of Quarkus' boot, so it is built alongside it.
        dev.binhost.agent.posix.Posix.warmUp();
        if (args.length > 0 && args[0].equals("run")) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        if (AgentConfigFile.explicitlyNamed()) {
            Path file = AgentConfigFile.location();
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                System.err.println("binhost-agent: " + AgentConfigFile.ENV + " names " + file
                        + ", which is not a readable file");
                System.exit(EXIT_CONFIG);
            }
        }
        Quarkus.run(Daemon.class, (code, failure) -> {
            if (failure != null) {
                code = reportStartFailure(failure);
            }
            System.exit(code);
        }, args);
    }

    /** One line per problem, no stack trace: a wrong key is the admin's to fix, not a bug to debug. */
    private static int reportStartFailure(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof dev.binhost.agent.state.AgentLock.HeldElsewhere locked) {
                System.err.println("binhost-agent: " + locked.getMessage());
                return EXIT_LOCKED;
            }
            if (c instanceof io.smallrye.config.ConfigValidationException invalid) {
                for (int i = 0; i < invalid.getProblemCount(); i++) {
                    System.err.println("binhost-agent: configuration error: "
                            + invalid.getProblem(i).getMessage().replaceAll("^[\\w.]+Exception: |SRCFG\\d+: ", ""));
                }
                return EXIT_CONFIG;
            }
            if (c instanceof io.quarkus.runtime.configuration.ConfigurationException wrong) {
                for (String line : String.valueOf(wrong.getMessage()).split("\n")) {
                    System.err.println("binhost-agent: configuration error: " + line.strip());
                }
                return EXIT_CONFIG;
            }
        }
        Throwable root = failure;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        System.err.println("binhost-agent: failed to start: " + root);
        return 1;
    }

    /** The long-running agent: everything happens in scheduled jobs and observers until shutdown. */
    public static class Daemon implements QuarkusApplication {
        @Override
        public int run(String... args) {
            Quarkus.waitForExit();
            return 0;
        }
    }
}
