package dev.octet.compiler.cuda;

import java.util.List;

/** The shapes kernels are checked at: one micro-batch of the tiny model, GPT-2 124M and Qwen2.5-1.5B. */
public record ModelShapes(String name, int tokens, int seqLen, int maxSeq, int dim, int ffn, int vocab) {
    public static final ModelShapes TINY = new ModelShapes("tiny", 512, 128, 256, 128, 384, 4096);
    public static final ModelShapes GPT2_124M = new ModelShapes("gpt2-124m", 1024, 1024, 1024, 768, 3072, 50257);
    public static final ModelShapes QWEN25_1_5B = new ModelShapes("qwen2.5-1.5b", 4096, 4096, 32768, 1536, 8960, 151936);

    public static List<ModelShapes> all() {
        return List.of(TINY, GPT2_124M, QWEN25_1_5B);
    }

    /** The model width (hidden size). */
    public int dModel() {
        return dim;
    }

    /** The feed-forward width. */
    public int dFf() {
        return ffn;
    }

    @Override
    public String toString() {
        return name;
    }
}
