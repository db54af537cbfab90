package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.attention.DecodeAttention;
import dev.octet.compiler.cuda.attention.DecodeAttentionCombine;
import dev.octet.compiler.cuda.attention.DecodeAttentionSplit;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.CachedAttention;
import dev.octet.cpu.ops.Rounding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The decoding step's attention against {@code CachedAttention.step}: random q, k, v and caches, every slot at
 * its own position (0, the last, and between). The caches must come back with exactly the new k and v rows
 * written at each slot's position and nothing else changed; o within a relative L2 of 2e-3 of the oracle's
 * exact value (FP32 scores and sums on the device, one BF16 rounding of o on both sides). Contexts past the
 * one-block kernel's shared memory run the split kernel and its combine.
 */
@GpuKernelTest
class DecodeAttentionGpuTest {
    @ParameterizedTest(name = "sequences {0} context {1} heads {2}/{3} head_dim {4}")
    @CsvSource({
            "8, 256, 4, 4, 32",     // the arithmetic model
            "64, 128, 4, 2, 64",    // the tiny model
            "16, 1024, 12, 12, 64", // GPT-2 small
            "4, 4096, 12, 2, 128",  // Qwen 2.5 1.5B's heads
            // past the one-block kernel's 11,264 positions: split into chunks of 2,048 and combined
            "3, 16384, 12, 2, 128",
            "4, 12000, 4, 4, 64"})  // a ragged last chunk
    void decodeAttentionMatchesOracle(int sequences, int context, int heads, int kvHeads, int headDim) {
        RandomTensors random = new RandomTensors(404);
        int kvRow = kvHeads * headDim;
        float[] q = random.bf16Gaussian(sequences * heads * headDim, 1.0);
        float[] k = random.bf16Gaussian(sequences * kvRow, 1.0);
        float[] v = random.bf16Gaussian(sequences * kvRow, 1.0);
        float[] keys = random.bf16Gaussian(sequences * context * kvRow, 1.0);
        float[] values = random.bf16Gaussian(sequences * context * kvRow, 1.0);
        int[] positions = new int[sequences];
        for (int s = 0; s < sequences; s++) {
            positions[s] = s == 0 ? 0 : s == 1 ? context - 1 : random.nextInt(context);
        }
        boolean split = context > DecodeAttention.MAX_POSITIONS;
        String name = split ? new DecodeAttentionSplit(sequences, context, heads, kvHeads, headDim).kernelName()
                : new DecodeAttention(sequences, context, heads, kvHeads, headDim).kernelName();
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("q", HostArray.bf16(q)).input("k", HostArray.bf16(k)).input("v", HostArray.bf16(v))
                    .input("positions", HostArray.i32(positions)).input("k_cache", HostArray.bf16(keys))
                    .input("v_cache", HostArray.bf16(values)).output("o", DType.BF16, sequences * heads * headDim);
            if (split) {
                DecodeAttentionSplit chunks = new DecodeAttentionSplit(sequences, context, heads, kvHeads, headDim);
                ws.output("partials", DType.F32, Math.toIntExact(chunks.partialFloats()))
                        .launch(chunks.emit())
                        .launch(new DecodeAttentionCombine(sequences, context, heads, headDim, chunks.splits()).emit());
            } else {
                ws.launch(new DecodeAttention(sequences, context, heads, kvHeads, headDim).emit());
            }
            double[] o = new double[q.length];
            double[] expectedKeys = Numbers.toDouble(keys);
            double[] expectedValues = Numbers.toDouble(values);
            CachedAttention.step(o, Numbers.toDouble(q), Numbers.toDouble(k), Numbers.toDouble(v), positions, expectedKeys,
                    expectedValues, sequences, context, heads, kvHeads, headDim, Rounding.EXACT);
            Accuracy.relativeL2(name + " o", ws.bf16("o"), o, 2e-3);
            Accuracy.bitExact(name + " k_cache", ws.bf16Bits("k_cache"), Numbers.bf16Bits(expectedKeys));
            Accuracy.bitExact(name + " v_cache", ws.bf16Bits("v_cache"), Numbers.bf16Bits(expectedValues));
        }
    }
}
