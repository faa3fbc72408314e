package dev.binhost.agent.spi;

/** Pulls the master's configuration right before an update run (implemented by the config pull). */
public interface ConfigRefresher {
    /** Pulls now, bounded by the pull's deadline; the verdict says whether the config is fresh enough to run. */
    Verdict refreshBeforeRun();
}
