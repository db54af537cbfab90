package dev.octet.data.sft;

import dev.octet.data.tokenizer.Tokenizer;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.IntStream;

/**
 * The ChatML template as Qwen's chat models use it: every message is
 * {@code <|im_start|>ROLE\nCONTENT<|im_end|>\n}, in order, with no default system message added and no
 * generation prompt at the end. The loss covers exactly the assistant's content and the {@code <|im_end|>}
 * that closes it (so the model learns to stop), not the role line nor the newline after.
 *
 * <p>Each piece (role line, content, newline) is encoded on its own, so the mask falls between tokens. On
 * content that begins with a newline this can split tokens where encoding the whole text at once would
 * merge them. The tokenizer must have {@code <|im_start|>} and {@code <|im_end|>}: GPT-2 and cl100k get
 * them as extra ids ({@link dev.octet.data.tokenizer.JTokkitTokenizer}); a tokenizer.json must define them.
 */
public final class ChatMlTemplate {

    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    public static final List<String> CONTROL_TOKENS = List.of(IM_START, IM_END);

    private final Tokenizer tokenizer;
    private final int imStart;
    private final int imEnd;
    private final int[] newline;

    public ChatMlTemplate(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.imStart = require(tokenizer, IM_START);
        this.imEnd = require(tokenizer, IM_END);
        this.newline = tokenizer.encode("\n");
    }

    private static int require(Tokenizer tokenizer, String token) {
        OptionalInt id = tokenizer.specialTokenId(token);
        if (id.isEmpty()) {
            throw new IllegalArgumentException("the tokenizer " + tokenizer.name() + " has no " + token
                    + " token; ChatML fine-tuning needs one with <|im_start|> and <|im_end|> (e.g. Qwen's tokenizer.json, or gpt2/cl100k)");
        }
        return id.getAsInt();
    }

    /** The conversation as text, exactly as the tokens spell it. */
    public static String text(Conversation conversation) {
        StringBuilder s = new StringBuilder();
        for (ChatMessage m : conversation.messages()) {
            s.append(IM_START).append(m.role().label()).append('\n').append(m.content()).append(IM_END).append('\n');
        }
        return s.toString();
    }

    public RenderedSample render(Conversation conversation) {
        Pieces out = new Pieces();
        for (ChatMessage m : conversation.messages()) {
            boolean learned = m.role() == ChatRole.ASSISTANT;
            out.add(new int[] {imStart}, false);
            out.add(tokenizer.encode(m.role().label() + "\n"), false);
            out.add(tokenizer.encode(m.content()), learned);
            out.add(new int[] {imEnd}, learned);
            out.add(newline, false);
        }
        return out.sample();
    }

    /** Token pieces and their loss flags, concatenated. */
    private static final class Pieces {
        private final IntStream.Builder tokens = IntStream.builder();
        private final StringBuilder flags = new StringBuilder();

        void add(int[] ids, boolean learned) {
            for (int id : ids) {
                tokens.add(id);
                flags.append(learned ? '1' : '0');
            }
        }

        RenderedSample sample() {
            int[] ids = tokens.build().toArray();
            boolean[] loss = new boolean[ids.length];
            for (int i = 0; i < ids.length; i++) {
                loss[i] = flags.charAt(i) == '1';
            }
            return new RenderedSample(ids, loss);
        }
    }
}
