package dev.octet.dsl.diag;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bounds what a message echoes of its input. A name, value or source line is quoted so the reader can find it,
 * but a one-megabyte identifier quoted whole makes the message itself unreadable (and, repeated, megabytes of
 * output); its start and its length say as much.
 */
public final class Excerpt {
    /** Longest word a message quotes whole; longer ones keep their first {@value #KEPT} characters. */
    public static final int MAX_WORD = 120;
    static final int KEPT = 48;
    /** Columns of a source line shown around the caret. */
    public static final int LINE_WINDOW = 160;

    private static final Pattern LONG_WORD = Pattern.compile("[^\\s'\"`]{" + (MAX_WORD + 1) + ",}");

    private Excerpt() {}

    /** {@code value} itself when short, else its start and its length: {@code abcd... (1,048,576 characters)}. */
    public static String clip(String value) {
        if (value.length() <= MAX_WORD) {
            return value;
        }
        return value.substring(0, KEPT) + String.format(java.util.Locale.ROOT, "... (%,d characters)", value.length());
    }

    /** {@code message} with every word (quotes are not part of it) longer than {@value #MAX_WORD} characters clipped. */
    public static String clipWords(String message) {
        if (message.length() <= MAX_WORD) {
            return message;
        }
        Matcher m = LONG_WORD.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(clip(m.group())));
        }
        m.appendTail(out);
        return out.toString();
    }
}
