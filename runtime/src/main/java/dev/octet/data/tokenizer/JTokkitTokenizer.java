package dev.octet.data.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.OptionalInt;

/**
 * OpenAI's byte-level BPEs through JTokkit: {@code gpt2} (r50k_base) and {@code cl100k} (cl100k_base).
 *
 * <p>Neither has ChatML's {@code <|im_start|>} and {@code <|im_end|>}, so both are added as the two ids right
 * above the base vocabulary (gpt2: 50257 and 50258; cl100k: 100277 and 100278). Text never encodes to them,
 * so pretraining needs only the base vocabulary ({@link #textVocabularySize()}: GPT-2 124M's own 50,257 ids
 * train on GPT-2-tokenized text); conversations need {@link #vocabularySize()}. The base special tokens
 * ({@code <|endoftext|>} and, for cl100k, the FIM tokens) keep their usual ids.
 */
public final class JTokkitTokenizer implements Tokenizer {

    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    public static final String END_OF_TEXT = "<|endoftext|>";

    /** A JTokkit encoding and the facts about it that JTokkit does not expose. */
    public enum Base {
        GPT2("gpt2", EncodingType.R50K_BASE, 50_257, Map.of(END_OF_TEXT, 50_256)),
        CL100K("cl100k", EncodingType.CL100K_BASE, 100_277, Map.of(END_OF_TEXT, 100_257, "<|fim_prefix|>", 100_258,
                "<|fim_middle|>", 100_259, "<|fim_suffix|>", 100_260, "<|endofprompt|>", 100_276));

        final String label;
        final EncodingType type;
        final int vocabularySize;
        final Map<String, Integer> specials;

        Base(String label, EncodingType type, int vocabularySize, Map<String, Integer> specials) {
            this.label = label;
            this.type = type;
            this.vocabularySize = vocabularySize;
            this.specials = specials;
        }
    }

    private final Base base;
    private final Encoding encoding;

    private JTokkitTokenizer(Base base) {
        this.base = base;
        this.encoding = Encodings.newDefaultEncodingRegistry().getEncoding(base.type);
    }

    public static JTokkitTokenizer of(Base base) {
        return new JTokkitTokenizer(base);
    }

    @Override
    public String name() {
        return base.label;
    }

    /** The base vocabulary and the two ChatML ids above it. */
    @Override
    public int vocabularySize() {
        return base.vocabularySize + 2;
    }

    /** The base vocabulary: GPT-2's 50,257 ids, cl100k's 100,277; text never encodes to the ChatML ids. */
    @Override
    public int textVocabularySize() {
        return base.vocabularySize;
    }

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        IntArrayList run = new IntArrayList();
        for (int id : ids) {
            if (id >= base.vocabularySize) {
                bytes.writeBytes(encoding.decodeBytes(run));
                run.clear();
                bytes.writeBytes(chatMlText(id).getBytes(StandardCharsets.UTF_8));
            } else {
                run.add(id);
            }
        }
        bytes.writeBytes(encoding.decodeBytes(run));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private String chatMlText(int id) {
        if (id == base.vocabularySize) {
            return IM_START;
        }
        if (id == base.vocabularySize + 1) {
            return IM_END;
        }
        throw new IllegalArgumentException("id " + id + " is outside the " + vocabularySize() + "-id vocabulary of " + name());
    }

    @Override
    public OptionalInt specialTokenId(String text) {
        return switch (text) {
            case IM_START -> OptionalInt.of(base.vocabularySize);
            case IM_END -> OptionalInt.of(base.vocabularySize + 1);
            default -> base.specials.containsKey(text) ? OptionalInt.of(base.specials.get(text)) : OptionalInt.empty();
        };
    }

    @Override
    public int endOfDocumentId() {
        return base.specials.get(END_OF_TEXT);
    }

    @Override
    public void close() {}
}
