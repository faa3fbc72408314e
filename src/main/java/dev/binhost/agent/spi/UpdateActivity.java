package dev.binhost.agent.spi;

/** Whether an emerge is running on this machine; the mount manager never releases a mount while one is. */
public interface UpdateActivity {
    boolean emergeRunning();
}
