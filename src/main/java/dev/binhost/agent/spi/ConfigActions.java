package dev.binhost.agent.spi;

/** The admin's config actions (the CLI's {@code pull-config} and {@code rollback-config}), served by the sync. */
public interface ConfigActions {
    /** Pulls the master's config now and ends a hold a rollback put on pulls; waits for the pull. */
    Verdict pullConfig(String requestedBy);

    /** Puts the previous 01* set back and holds pulls at it until {@link #pullConfig}. */
    Verdict rollbackConfig(String requestedBy);
}
