package dev.octet.dsl.spec;

import java.util.Set;

/**
 * The hyper-parameters of a decoder-only transformer. {@code headDim} defaults to dim / heads;
 * {@code biases} names the projections that carry a bias (GPT-2: all, which means every projection
 * of the block but not the LM head; Qwen2: q, k, v; Llama: none).
 */
public record ModelConfig(
        int vocab, int dim, int ffn, int heads, int kvHeads, int headDim, int layers, int maxSeq,
        double normEps, double ropeTheta, boolean tiedEmbeddings, Set<Projection> biases) {
    public ModelConfig {
        biases = Set.copyOf(biases);
    }

    public boolean hasBias(Projection p) {
        return biases.contains(p);
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }
}
