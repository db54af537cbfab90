package dev.octet.cpu.exec;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.cpu.ops.Rounding;
import dev.octet.dsl.spec.ModelSpec;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The autodiff of whole models, end to end: every parameter gradient of a 2-layer model against central
 * finite differences of the loss, in float64 (Rounding.EXACT, BF16 kernels computing exactly).
 */
class GraphInterpreterGradientTest {
    private static final double H = 1e-5;
    /** max |analytic − numeric| / max |numeric| over each tensor. */
    private static final double BOUND = 1e-6;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void everyParameterGradientMatchesFiniteDifferences(String which) {
        ModelSpec model = Models.parse(which.equals("llama") ? Models.LLAMA_LIKE : Models.GPT2_LIKE)
                .models().values().iterator().next();
        ParameterStore params = ParameterStore.initialize(model, 7);
        // Larger weights than the training init, so the test exercises non-trivial attention and activations.
        SplittableRandom r = new SplittableRandom(3);
        for (ParameterStore.Entry e : params.entries()) {
            for (int i = 0; i < e.master().length; i++) {
                e.master()[i] += (float) (0.3 * (r.nextDouble() - 0.5));
            }
        }
        params.refreshWorking(Rounding.EXACT);
        GraphInterpreter g = new GraphInterpreter(model, params, l -> new Bf16LinearKernel(), Rounding.EXACT);
        TokenBatch batch = batch(model.config().vocab(), r);
        g.forwardBackward(batch, 1.0);
        for (ParameterStore.Entry e : params.entries()) {
            double[] w = e.working();
            double maxErr = 0;
            double maxRef = 0;
            for (int i = 0; i < w.length; i++) {
                double keep = w[i];
                w[i] = keep + H;
                double up = g.loss(batch);
                w[i] = keep - H;
                double down = g.loss(batch);
                w[i] = keep;
                double numeric = (up - down) / (2 * H);
                maxErr = Math.max(maxErr, Math.abs(numeric - e.grad()[i]));
                maxRef = Math.max(maxRef, Math.abs(numeric));
            }
            // A key bias without RoPE shifts every score of a query row equally, so softmax ignores it and its
            // true gradient is 0: the floor keeps that case from dividing noise by noise.
            double scale = Math.max(maxRef, 1e-4);
            assertTrue(maxErr / scale < BOUND, e.param().name() + ": relative error " + maxErr / scale);
        }
    }

    /** Two sequences of 6 tokens; the second holds two documents; one target masked out. */
    private static TokenBatch batch(int vocab, SplittableRandom r) {
        int n = 12;
        int[] inputs = new int[n];
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            inputs[i] = r.nextInt(vocab);
            targets[i] = r.nextInt(vocab);
        }
        int[] docs = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
        double[] mask = {1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1};
        return new TokenBatch(2, 6, inputs, targets, docs, mask);
    }
}
