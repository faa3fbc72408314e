package dev.binhost.agent.master;

/** CDI event fired (asynchronously) when the master goes UP or DOWN. Mounts and config pull react to it. */
public record MasterTransition(MasterState previous, MasterState current) {
    public boolean cameUp() {
        return current.up() && !previous.up();
    }

    public boolean wentDown() {
        return previous.up() && !current.up();
    }
}
