package dev.octet.cpu.exec;

import dev.octet.cpu.ops.Rounding;
import dev.octet.dsl.spec.ModelSpec;

/**
 * A model's next-token logits for a batch of token sequences, computed on the CPU in float64 from the FP32
 * master weights, with no BF16 or FP8 rounding anywhere: the model's own function, what another
 * implementation (Hugging Face transformers, a test's reference) should reproduce.
 */
public final class ForwardLogits {
    private ForwardLogits() {}

    /** Logits {@code [sequences, length, vocab]} row-major; every sequence has the same length and is its own document. */
    public static double[] of(ModelSpec model, ParameterStore params, int[][] sequences) {
        int vocab = model.config().vocab();
        if (sequences.length == 0 || sequences[0].length == 0) {
            throw new IllegalArgumentException("at least one sequence of at least one token is needed");
        }
        int length = sequences[0].length;
        if (length > model.config().maxSeq()) {
            throw new IllegalArgumentException("sequences of " + length + " tokens exceed max_seq = " + model.config().maxSeq());
        }
        int rows = sequences.length * length;
        int[] inputs = new int[rows];
        for (int b = 0; b < sequences.length; b++) {
            if (sequences[b].length != length) {
                throw new IllegalArgumentException("sequence " + b + " has " + sequences[b].length + " tokens, sequence 0 has " + length);
            }
            for (int t = 0; t < length; t++) {
                int id = sequences[b][t];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " at [" + b + ", " + t + "] is outside the vocabulary of " + vocab);
                }
                inputs[b * length + t] = id;
            }
        }
        double[] ones = new double[rows];
        java.util.Arrays.fill(ones, 1);
        TokenBatch batch = new TokenBatch(sequences.length, length, inputs, new int[rows], new int[rows], ones);
        params.refreshWorking(Rounding.EXACT);
        // Bf16LinearKernel computes an exact product; the BF16 in its name is about what it is given under GPU rounding.
        GraphInterpreter interpreter = new GraphInterpreter(model, params, linear -> new Bf16LinearKernel(), Rounding.EXACT);
        return interpreter.logits(batch);
    }
}
