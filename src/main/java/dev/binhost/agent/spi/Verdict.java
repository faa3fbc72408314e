package dev.binhost.agent.spi;

/** A yes/no answer with the reason an admin needs to act on it. */
public record Verdict(boolean ok, String detail) {
    public static Verdict ok(String detail) {
        return new Verdict(true, detail);
    }

    public static Verdict no(String detail) {
        return new Verdict(false, detail);
    }
}
