package dev.binhost.agent;

import dev.binhost.agent.cli.Cli;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.util.Arrays;

/**
 * Entry point: {@code status}, {@code trigger}, {@code history} and {@code check} are answered by the CLI
 * before Quarkus starts (a client needs no server); without arguments, or with {@code run}, the agent runs.
 */
@QuarkusMain
public class Main {
    public static void main(String... args) {
        if (Cli.handles(args)) {
            System.exit(Cli.main(args));
        }
        if (args.length > 0 && args[0].equals("run")) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        Quarkus.run(Daemon.class, args);
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
