package dev.binhost.agent.emerge;

import java.nio.file.Path;

/** Child JVM for the crash test: the agent's update runner running a slow stand-in emerge, until SIGKILLed. */
public final class AgentRunMain {
    private AgentRunMain() {
    }

    public static void main(String[] args) {
        StandIn s = new StandIn(Path.of(args[0])).fixtures("016-", "020-");
        s.scenarioKeys.put("LINE_DELAY", "0.05");
        s.runner().run(UpdateRunner.Reason.SCHEDULE, "schedule");
    }
}
