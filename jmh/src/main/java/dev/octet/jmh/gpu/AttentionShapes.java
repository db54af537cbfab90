package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.attention.AttentionShape;

import java.util.Locale;

/**
 * The attention shapes benchmarked: {@code gpt2} is GPT-2 124M (batch 8 × seq 1024, 12 heads of 64);
 * {@code qwen} a Qwen2.5-1.5B-like long context (batch 2 × seq 4096, 12 query heads sharing 2 key/value heads,
 * headDim 128), both 8192 tokens; {@code qwen_8k} the same at seq 8192 and {@code llama_8k} Llama-3.2-1B's
 * attention at seq 8192 (batch 2, 32 query heads sharing 8 key/value heads, headDim 64), 16384 tokens each.
 * All causal, without a document mask.
 */
final class AttentionShapes {
    private AttentionShapes() {}

    static AttentionShape named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "gpt2" -> new AttentionShape(8, 1024, 12, 12, 64, false);
            case "qwen" -> new AttentionShape(2, 4096, 12, 2, 128, false);
            case "qwen_8k" -> new AttentionShape(2, 8192, 12, 2, 128, false);
            case "llama_8k" -> new AttentionShape(2, 8192, 32, 8, 64, false);
            default -> throw new IllegalArgumentException("attention shape is gpt2, qwen, qwen_8k or llama_8k, not " + name);
        };
    }
}
