package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.attention.AttentionShape;

import java.util.Locale;

/**
 * The attention shapes benchmarked: {@code gpt2} is GPT-2 124M (batch 8 × seq 1024, 12 heads of 64);
 * {@code qwen} a Qwen2.5-1.5B-like long context (batch 2 × seq 4096, 12 query heads sharing 2 key/value heads,
 * headDim 128), both 8192 tokens; {@code qwen_8k} the same at seq 8192 and {@code llama_8k} Llama-3.2-1B's
 * attention at seq 8192 (batch 2, 32 query heads sharing 8 key/value heads, headDim 64), 16384 tokens each.
 * All causal. {@code documents}: {@code none}, no document mask (the kernels without one); {@code one}, the
 * document-masked kernels with every token in one document (what {@code octet bench} times: its seeded random tokens
 * carry document id 0); a number N, documents of N tokens each (ids t / N over the batch's flattened tokens).
 */
final class AttentionShapes {
    private AttentionShapes() {}

    static AttentionShape named(String name) {
        return named(name, "none");
    }

    static AttentionShape named(String name, String documents) {
        boolean mask = documentLength(documents) >= 0;
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "gpt2" -> new AttentionShape(8, 1024, 12, 12, 64, mask);
            case "qwen" -> new AttentionShape(2, 4096, 12, 2, 128, mask);
            case "qwen_8k" -> new AttentionShape(2, 8192, 12, 2, 128, mask);
            case "llama_8k" -> new AttentionShape(2, 8192, 32, 8, 64, mask);
            default -> throw new IllegalArgumentException("attention shape is gpt2, qwen, qwen_8k or llama_8k, not " + name);
        };
    }

    /** Every token's document id for {@code documents} (one, or N tokens a document) over {@code shape}'s tokens. */
    static int[] documentIds(AttentionShape shape, String documents) {
        int length = documentLength(documents);
        int[] ids = new int[shape.tokens()];
        for (int t = 0; t < ids.length && length > 0; t++) {
            ids[t] = t / length;
        }
        return ids;
    }

    /** -1 for none, 0 for one document, else the tokens of a document. */
    private static int documentLength(String documents) {
        return switch (documents) {
            case "none" -> -1;
            case "one" -> 0;
            default -> {
                try {
                    int n = Integer.parseInt(documents);
                    if (n > 0) {
                        yield n;
                    }
                } catch (NumberFormatException e) {
                    // refused below
                }
                throw new IllegalArgumentException("documents is none, one or a positive token count, not " + documents);
            }
        };
    }
}
