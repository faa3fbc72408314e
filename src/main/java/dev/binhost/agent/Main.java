package dev.binhost.agent;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;

/** Entry point: without arguments (or with {@code run}) the agent runs as a daemon. */
@QuarkusMain
public class Main {
    public static void main(String... args) {
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
