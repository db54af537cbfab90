package dev.octet.data.arithmetic;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.octet.data.sft.ChatMlTemplate;
import dev.octet.data.sft.ChatRole;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.SequencedMap;
import java.util.TreeSet;
import java.util.LinkedHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A word-level Hugging Face tokenizer.json made for the arithmetic task: every word of the task (with and
 * without the space before it), every digit on its own, punctuation and the operators, a lone space and a
 * newline, and ChatML's control tokens. A few hundred ids in all, so a tiny model's embedding stays small and
 * each number is spelled digit by digit, the way the model has to compute it.
 *
 * <p>The text is cut by one regex ({@link #PIECE}) and each piece looked up whole; the spaces live inside the
 * pieces and the decoder joins pieces without adding any, so decoding gives the text back exactly.
 */
public final class TaskTokenizer {
    /** A word with its leading space, punctuation with its leading space, one digit, or one whitespace character. */
    public static final String PIECE = " ?[A-Za-z]+| ?[^A-Za-z0-9\\s]|[0-9]|\\s";
    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String UNKNOWN = "<unk>";

    private static final Pattern PIECE_PATTERN = Pattern.compile(PIECE);
    private static final Pattern WORD = Pattern.compile("[A-Za-z]+");
    private static final String PUNCTUATION = ".,?+-*=";

    private TaskTokenizer() {}

    /** The pieces of {@code text} as the tokenizer cuts it. */
    public static List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = PIECE_PATTERN.matcher(text);
        int at = 0;
        while (m.find()) {
            if (m.start() != at) {
                throw new IllegalStateException("unmatched text at " + at + " of " + text);
            }
            out.add(m.group());
            at = m.end();
        }
        return out;
    }

    /** The vocabulary in id order: the three special tokens, {@code <unk>}, then the pieces sorted. */
    public static List<String> vocabulary(Collection<String> phrases) {
        TreeSet<String> pieces = new TreeSet<>();
        List<String> texts = new ArrayList<>(phrases);
        texts.add(FinalAnswer.sentence(0));
        for (ChatRole role : ChatRole.values()) {
            texts.add(role.label());
        }
        for (String text : texts) {
            Matcher m = WORD.matcher(text);
            while (m.find()) {
                pieces.add(m.group());
                pieces.add(" " + m.group());
            }
        }
        for (char c : PUNCTUATION.toCharArray()) {
            pieces.add(String.valueOf(c));
            pieces.add(" " + c);
        }
        for (char d = '0'; d <= '9'; d++) {
            pieces.add(String.valueOf(d));
        }
        pieces.add(" ");
        pieces.add("\n");
        List<String> vocabulary = new ArrayList<>(List.of(END_OF_TEXT, ChatMlTemplate.IM_START, ChatMlTemplate.IM_END, UNKNOWN));
        vocabulary.addAll(pieces);
        return List.copyOf(vocabulary);
    }

    /** The task's vocabulary. */
    public static List<String> vocabulary() {
        return vocabulary(ProblemGenerator.phrasebook());
    }

    /** The tokenizer.json text for {@code vocabulary} (special tokens first, as {@link #vocabulary} orders them). */
    public static String json(List<String> vocabulary) {
        SequencedMap<String, Integer> ids = new LinkedHashMap<>();
        for (String piece : vocabulary) {
            ids.put(piece, ids.size());
        }
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", null);
        root.add("padding", null);
        JsonArray added = new JsonArray();
        for (String special : List.of(END_OF_TEXT, ChatMlTemplate.IM_START, ChatMlTemplate.IM_END)) {
            JsonObject t = new JsonObject();
            t.addProperty("id", ids.get(special));
            t.addProperty("content", special);
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        }
        root.add("added_tokens", added);
        root.add("normalizer", null);
        JsonObject split = new JsonObject();
        split.addProperty("type", "Split");
        JsonObject pattern = new JsonObject();
        pattern.addProperty("Regex", PIECE);
        split.add("pattern", pattern);
        split.addProperty("behavior", "Isolated");
        split.addProperty("invert", false);
        root.add("pre_tokenizer", split);
        root.add("post_processor", null);
        JsonObject fuse = new JsonObject();
        fuse.addProperty("type", "Fuse");
        root.add("decoder", fuse);
        JsonObject model = new JsonObject();
        model.addProperty("type", "WordLevel");
        JsonObject vocab = new JsonObject();
        ids.forEach(vocab::addProperty);
        model.add("vocab", vocab);
        model.addProperty("unk_token", UNKNOWN);
        root.add("model", model);
        Gson gson = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();
        return gson.toJson(root) + "\n";
    }
}
