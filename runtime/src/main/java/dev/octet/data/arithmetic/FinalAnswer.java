package dev.octet.data.arithmetic;

import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The closing sentence of a worked answer, {@code The answer is 34.}, written and read back. */
public final class FinalAnswer {
    private static final Pattern SENTENCE = Pattern.compile("The answer is (-?\\d{1,9})\\.");

    private FinalAnswer() {}

    public static String sentence(int answer) {
        return "The answer is " + answer + ".";
    }

    /** The number of the last such sentence in {@code text}; empty when there is none. */
    public static OptionalInt in(String text) {
        Matcher m = SENTENCE.matcher(text);
        OptionalInt found = OptionalInt.empty();
        while (m.find()) {
            found = OptionalInt.of(Integer.parseInt(m.group(1)));
        }
        return found;
    }
}
