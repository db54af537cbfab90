package dev.octet.jmh.gpu;

import java.util.Locale;

/** Widths of the two model sizes the memory-bound benchmarks use, at T = 8192 tokens per step. */
record ModelDims(int dim, int ffn) {
    static final int TOKENS = GemmShape.Shapes.TOKENS;

    /** {@code gpt2}: GPT-2 124M (768, 3072); {@code qwen}: Qwen2.5-1.5B-like (1536, 8960). */
    static ModelDims named(String model) {
        return switch (model.toLowerCase(Locale.ROOT)) {
            case "gpt2" -> new ModelDims(768, 3072);
            case "qwen" -> new ModelDims(1536, 8960);
            default -> throw new IllegalArgumentException("model is gpt2 or qwen, not " + model);
        };
    }
}
