package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * The second half of {@link DecodeAttentionSplit}: one block per (sequence, head) rescales each chunk's sum and
 * weighted values by {@code exp(chunk max - largest max)}, adds them in chunk order and writes the weighted values
 * divided by the total sum, rounded once to BF16. A sequence whose position is outside {@code [0, maxSeq)} keeps
 * its output row.
 *
 * <p>Parameters: {@code partials} (f32[sequences, heads, splits, headDim + 2]), {@code positions}, {@code o}
 * (bf16[sequences, heads × headDim]).
 */
public record DecodeAttentionCombine(int sequences, int maxSeq, int heads, int headDim, int splits) implements KernelSpec {
    static final int THREADS = 128;

    public DecodeAttentionCombine {
        if (sequences < 1 || heads < 1 || headDim < 1 || splits < 1 || maxSeq < 1) {
            throw new IllegalArgumentException("decode attention combine: sequences, heads, head_dim, splits and max_seq"
                    + " must be positive, got " + sequences + ", " + heads + ", " + headDim + ", " + splits + ", " + maxSeq);
        }
    }

    @Override
    public String kernelName() {
        return "decode_attention_combine_s" + sequences + "_m" + maxSeq + "_h" + heads + "_d" + headDim + "_x" + splits;
    }

    public List<KernelParam> params() {
        return List.of(KernelParam.in("partials", DType.F32), KernelParam.in("positions", DType.I32),
                KernelParam.out("o", DType.BF16));
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Combines the %d chunks of a split decoding attention: partials f32[%d sequences, %d heads, %d, %d + 2]
                (max, sum, weighted values) -> o bf16[%d, %d × %d]; one block per (sequence, head).""".formatted(
                splits, sequences, heads, splits, headDim, sequences, heads, headDim);
        String body = """
                constexpr int MAX_SEQ = %d, HEADS = %d, HEAD_DIM = %d, SPLITS = %d, THREADS = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const int sequence = blockIdx.x / HEADS;
                    const int position = positions[sequence];
                    if (position < 0 || position >= MAX_SEQ) return;
                    const float* in = partials + (long) blockIdx.x * SPLITS * (HEAD_DIM + 2);
                    // Chunks after the position are empty (max -inf, sum 0); the first chunk never is.
                    float largest = in[0];
                    for (int s = 1; s < SPLITS; s++) largest = fmaxf(largest, in[s * (HEAD_DIM + 2)]);
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) {
                        float sum = 0.0f, acc = 0.0f;
                        for (int s = 0; s < SPLITS; s++) {
                            const float* chunk = in + s * (HEAD_DIM + 2);
                            if (chunk[1] == 0.0f) continue;
                            const float w = expf(chunk[0] - largest);
                            sum = fmaf(chunk[1], w, sum);
                            acc = fmaf(chunk[2 + d], w, acc);
                        }
                        o[(long) blockIdx.x * HEAD_DIM + d] = f32_to_bf16(acc / sum);
                    }
                }
                """.formatted(maxSeq, heads, headDim, splits, THREADS, kernelName(), CudaKernel.signature(params()));
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(sequences * heads, THREADS, 0), params());
    }
}
