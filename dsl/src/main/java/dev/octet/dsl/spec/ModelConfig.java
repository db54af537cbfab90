package dev.octet.dsl.spec;

import java.util.Optional;
import java.util.Set;

/**
 * The hyper-parameters of a decoder-only transformer. {@code headDim} defaults to dim / heads;
 * {@code biases} names the projections that carry a bias (GPT-2: all, which means every projection
 * of the block but not the LM head; Qwen2: q, k, v; Llama: none). {@code ropeScaling}: Llama 3.1+'s scaled
 * rotary frequencies, when the model has them.
 */
public record ModelConfig(
        int vocab, int dim, int ffn, int heads, int kvHeads, int headDim, int layers, int maxSeq,
        double normEps, double ropeTheta, Optional<RopeScaling> ropeScaling, boolean tiedEmbeddings,
        Set<Projection> biases) {
    public ModelConfig {
        biases = Set.copyOf(biases);
    }

    /**
     * RoPE's inverse frequencies {@code theta^(−2i/headDim)} for i < headDim/2, scaled where the model says: the one
     * definition the CPU reference and the generated kernels both use.
     */
    public static double[] ropeInverseFrequencies(double theta, int headDim, Optional<RopeScaling> scaling) {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
            if (scaling.isPresent()) {
                inv[i] = scaling.get().scale(inv[i]);
            }
        }
        return inv;
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
