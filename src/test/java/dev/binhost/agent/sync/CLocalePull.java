package dev.binhost.agent.sync;

import dev.binhost.agent.posix.JnrPosix;
import dev.binhost.agent.process.ProcessRunner;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * One pull in a child JVM, which a test starts under LC_ALL=C (the JVM's file-name encoding is then ASCII):
 * args are the test's work dir and the daemon's port; prints the file-name encoding and the outcome.
 */
public final class CLocalePull {
    private CLocalePull() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        TestSyncConfig config = new TestSyncConfig(work.resolve("slave"));
        ConfigPull pull = new ConfigPull(config, new ConfigPull.Source("127.0.0.1", Integer.parseInt(args[1]),
                "portage-config"), work.resolve("state"), new ProcessRunner(new JnrPosix(), Duration.ofSeconds(1),
                65536), Clock.systemUTC());
        PullResult r = pull.pull();
        System.out.println("jnu=" + System.getProperty("sun.jnu.encoding"));
        System.out.println("outcome=" + r.outcome());
        System.out.println("message=" + r.message());
    }
}
