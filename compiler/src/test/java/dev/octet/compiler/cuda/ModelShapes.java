package dev.octet.compiler.cuda;

import java.util.List;

/** The shapes generated kernels are checked at: tokens per micro-batch, model width, MLP width, vocabulary. */
public record ModelShapes(String name, int tokens, int dModel, int dFf, int vocab) {
    public static final ModelShapes TINY = new ModelShapes("tiny", 512, 128, 384, 4096);
    public static final ModelShapes GPT2_124M = new ModelShapes("gpt2-124m", 1024, 768, 3072, 50257);
    public static final ModelShapes QWEN25_1_5B = new ModelShapes("qwen2.5-1.5b", 4096, 1536, 8960, 151936);

    public static List<ModelShapes> all() {
        return List.of(TINY, GPT2_124M, QWEN25_1_5B);
    }

    @Override
    public String toString() {
        return name;
    }
}
