package dev.binhost.agent.history;

import java.nio.file.Path;

/** Child JVM for the crash test: appends numbered records to a history forever, until it is SIGKILLed. */
public final class HistoryWriterMain {
    private HistoryWriterMain() {
    }

    public static void main(String[] args) throws Exception {
        RunHistory h = new RunHistory(Path.of(args[0]), Integer.MAX_VALUE);
        String filler = "x".repeat(20_000); // large lines make a kill inside a write likely
        for (int i = 0; ; i++) {
            h.append(RunHistoryTest.record(i, filler));
        }
    }

}
