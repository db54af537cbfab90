package dev.octet.gpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.octet.compiler.cuda.loss.CrossEntropyFused;
import dev.octet.compiler.cuda.loss.TokenLossSum;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.CrossEntropy;
import dev.octet.cpu.ops.Rounding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Fused cross-entropy and the token loss sum against {@code CrossEntropy} (double precision). The kernel works
 * in FP32 with accurate expf/logf, so per-token losses agree to ~1e-6 relative; dlogits are rounded to BF16 by
 * both, so they may differ by one BF16 ulp where the exact value lies near a rounding boundary.
 */
@GpuKernelTest
class LossKernelsGpuTest {
    private static final double LOSS_BOUND = 1e-5;
    /** One BF16 ulp is 2^-8 relative at most; a relative L2 error of 2^-9 allows many elements one ulp apart. */
    private static final double DLOGITS_BOUND = 0x1p-9;
    private static final int DLOGITS_MAX_ULPS = 2;
    private static final int IGNORE_INDEX = -100;

    @ParameterizedTest(name = "{0} tokens, vocab {1}, rows {2} apart")
    @CsvSource({
        "256, 1000, 1000", "200, 50257, 50257", "512, 4096, 4096", // eight at a time; one by one; the tiny model's
        "64, 151936, 151936",                                      // Qwen2.5's vocabulary
        "96, 1003, 1008", "40, 50257, 50304"})                     // padded rows: eight at a time and a ragged tail
    void fusedCrossEntropyMatchesTheOracle(int tokens, int vocab, int pitch) {
        RandomTensors random = new RandomTensors(21);
        // Logits of a trained-looking head: spread wider than N(0, 1), so softmax is far from uniform.
        float[] logits = random.bf16Gaussian(tokens * vocab, 3.0);
        // The rows as the LM head leaves them: `pitch` apart, the padding past the vocabulary never touched.
        float padding = 1536.0f;  // exact in BF16
        float[] stored = new float[tokens * pitch];
        java.util.Arrays.fill(stored, padding);
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(logits, t * vocab, stored, t * pitch, vocab);
        }
        int[] targets = random.ints(tokens, vocab);
        double[] mask = new double[tokens];
        int counted = 0;
        for (int t = 0; t < tokens; t++) {
            if (t % 7 == 3) {
                targets[t] = IGNORE_INDEX; // masked, like a prompt or padding token
            } else {
                mask[t] = 1;
                counted++;
            }
        }
        float weight = (float) (1.0 / counted); // dloss = 1, one micro-batch holding every counted token
        CrossEntropyFused spec = new CrossEntropyFused(tokens, vocab, pitch);
        TokenLossSum sum = new TokenLossSum(tokens);
        float earlierMicroBatches = 0.75f; // loss[0] accumulates: start from what earlier micro-batches left
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("logits", HostArray.bf16(stored))
                    .input("targets", HostArray.i32(targets))
                    .input("loss_weight", HostArray.f32(weight))
                    .output("losses", DType.F32, tokens)
                    .input("loss", HostArray.f32(earlierMicroBatches))
                    .launch(spec.emit())
                    .launch(sum.emit());

            double[] logitsD = Numbers.toDouble(logits);
            double[] perToken = new double[tokens];
            for (int t = 0; t < tokens; t++) {
                if (mask[t] != 0) {
                    double[] row = java.util.Arrays.copyOfRange(logitsD, t * vocab, (t + 1) * vocab);
                    perToken[t] = weight * CrossEntropy.forward(row, new int[] {targets[t]}, 1, vocab);
                }
            }
            String name = spec.kernelName();
            Accuracy.relativeL2(name + " per-token losses", ws.f32("losses"), perToken, LOSS_BOUND);

            double[] dlogits = new double[tokens * vocab];
            CrossEntropy.backward(dlogits, logitsD, targets, mask, tokens, vocab, 1.0, Rounding.GPU);
            float[] written = ws.bf16("logits");
            short[] writtenBits = ws.bf16Bits("logits");
            float[] dlogitsGpu = new float[tokens * vocab];
            short[] dlogitsBits = new short[tokens * vocab];
            for (int t = 0; t < tokens; t++) {
                System.arraycopy(written, t * pitch, dlogitsGpu, t * vocab, vocab);
                System.arraycopy(writtenBits, t * pitch, dlogitsBits, t * vocab, vocab);
                for (int j = vocab; j < pitch; j++) {
                    assertEquals(padding, written[t * pitch + j], "row " + t + " padding at " + j);
                }
            }
            Accuracy.relativeL2(name + " dlogits", dlogitsGpu, dlogits, DLOGITS_BOUND);
            Accuracy.bf16Ulps(name + " dlogits", dlogitsBits, dlogits, DLOGITS_MAX_ULPS);

            double mean = CrossEntropy.forward(logitsD, targets, mask, tokens, vocab);
            Accuracy.relative(sum.kernelName() + " loss (after " + earlierMicroBatches + ")", ws.f32("loss")[0],
                    earlierMicroBatches + mean, LOSS_BOUND);
        }
    }

    /** The sum has a fixed order: the same inputs give the same bits, launch after launch. */
    @ParameterizedTest(name = "{0} tokens")
    @CsvSource({"256", "512", "3000"})
    void tokenLossSumIsDeterministic(int tokens) {
        RandomTensors random = new RandomTensors(22);
        float[] losses = random.uniform(tokens, 0, 10.0 / tokens);
        TokenLossSum sum = new TokenLossSum(tokens);
        double exact = 0;
        for (float l : losses) {
            exact += l;
        }
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("losses", HostArray.f32(losses)).input("loss", HostArray.f32(0f)).launch(sum.emit());
            float first = ws.f32("loss")[0];
            Accuracy.relative(sum.kernelName() + " sum", first, exact, 1e-6);
            for (int run = 0; run < 5; run++) {
                ws.write("loss", HostArray.f32(0f)).launch(sum.emit());
                Accuracy.bitExact(sum.kernelName() + " rerun " + (run + 1), ws.f32("loss"), new float[] {first});
            }
        }
    }
}
