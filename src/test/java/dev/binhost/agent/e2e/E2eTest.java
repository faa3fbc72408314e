package dev.binhost.agent.e2e;

import dev.binhost.agent.testing.Sh;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every rig scenario shares: root and bindfs, a fresh {@link Rig} in a temp dir per test, and the agent and
 * the rig torn down by PID afterwards, whatever the test did.
 */
@Tag("e2e")
abstract class E2eTest {
    @TempDir
    Path tmp;
    Rig rig;
    SlaveAgent agent;

    @BeforeEach
    void setUpRig() throws Exception {
        assumeTrue(Sh.root(), "needs root for network and mount namespaces (CI runs as root)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/bindfs")), "bindfs is not installed (apt-get install bindfs)");
        rig = new Rig(tmp);
    }

    @AfterEach
    void tearDownRig() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (rig != null) {
            rig.close();
        }
    }

    /** Starts the agent as installed (the launcher's JVM flags plus {@code extraJvm}) and waits for its HTTP port. */
    SlaveAgent start(Map<String, String> config, String... extraJvm) throws IOException, InterruptedException {
        List<String> jvm = new ArrayList<>(E2e.INSTALLED_JVM_OPTIONS);
        jvm.addAll(List.of(extraJvm));
        agent = SlaveAgent.start(rig, config, jvm);
        agent.awaitHttp(Duration.ofSeconds(60));
        return agent;
    }
}
