package dev.binhost.agent.emerge;

import java.util.regex.Pattern;

/** Removes terminal colour codes, which emerge prints with --color=y and in ebuild " * " lines even without it. */
public final class Ansi {
    private static final Pattern ESCAPE = Pattern.compile("\u001B\\[[0-9;?]*[A-Za-z]");

    private Ansi() {
    }

    public static String strip(String text) {
        return text.indexOf('\u001B') < 0 ? text : ESCAPE.matcher(text).replaceAll("");
    }
}
