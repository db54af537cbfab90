package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * Attention of one decoding step over caches longer than {@link DecodeAttention} holds in shared memory, split
 * along the positions (flash-decoding): one block per (sequence, kv head, chunk of {@value #CHUNK} positions)
 * writes, for each query head of its group, the chunk's running max, its sum of max-subtracted exponentials and
 * their weighted sum of values, unnormalised, in FP32 ({@code partials}); {@link DecodeAttentionCombine} rescales
 * the chunks to the largest max and divides once. The block whose chunk holds the sequence's position first
 * writes the token's k and v row there; no other block reads that row. A chunk wholly after the position
 * writes an empty partial (max -inf, sum 0). A position outside {@code [0, maxSeq)} writes nothing.
 *
 * <p>Parameters: {@code q, k, v, positions, k_cache, v_cache, partials}; caches as {@link DecodeAttention}'s;
 * partials f32[sequences, heads, splits, headDim + 2] (max, sum, then the weighted values).
 */
public record DecodeAttentionSplit(int sequences, int maxSeq, int heads, int kvHeads, int headDim) implements KernelSpec {
    /** Positions a block scores: one float of shared memory each. */
    public static final int CHUNK = 2048;

    public DecodeAttentionSplit {
        DecodeAttention.requireShape(sequences, maxSeq, heads, kvHeads, headDim);
    }

    public int splits() {
        return Math.ceilDiv(maxSeq, CHUNK);
    }

    /** Floats of {@code partials}. */
    public long partialFloats() {
        return (long) sequences * heads * splits() * (headDim + 2);
    }

    @Override
    public String kernelName() {
        return "decode_attention_split_s" + sequences + "_m" + maxSeq + "_h" + heads + "_kv" + kvHeads + "_d" + headDim;
    }

    public List<KernelParam> params() {
        List<KernelParam> params = new ArrayList<>(DecodeAttention.cacheParams());
        params.add(KernelParam.out("partials", DType.F32));
        return params;
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Attention of one decoding step, split along the cached positions in chunks of %d (FP32 partials).
                q: bf16[%d sequences, %d heads × %d]; k, v: bf16[%d, %d kv heads × %d];
                caches: bf16[%d sequences, %d positions, %d kv heads × %d]; partials f32[%d, %d, %d splits, %d + 2];
                one block per (sequence, kv head, chunk).""".formatted(CHUNK, sequences, heads, headDim, sequences, kvHeads,
                headDim, sequences, maxSeq, kvHeads, headDim, sequences, heads, splits(), headDim);
        String body = DecodeAttention.definitions(maxSeq, heads, kvHeads, headDim) + """
                constexpr int CHUNK = %d;
                constexpr int SPLITS = %d;
                """.formatted(CHUNK, splits())
                + KERNEL.replace("$NAME", kernelName()).replace("$SIGNATURE", CudaKernel.signature(params()));
        LaunchGeometry launch = LaunchGeometry.linear(sequences * kvHeads * splits(), DecodeAttention.THREADS, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(THREADS) $NAME$SIGNATURE {
                __shared__ float scores[CHUNK];
                __shared__ float query[HEAD_DIM];
                __shared__ float slots[WARPS];
                const int split = blockIdx.x % SPLITS, kv_head = (blockIdx.x / SPLITS) % KV_HEADS;
                const int sequence = blockIdx.x / (SPLITS * KV_HEADS);
                const int position = positions[sequence];
                if (position < 0 || position >= MAX_SEQ) return;
                const int first = split * CHUNK, last = min(first + CHUNK - 1, position);  // inclusive
                const long slice = (long) sequence * MAX_SEQ * KV_ROW + kv_head * HEAD_DIM;
                bf16_t* keys = k_cache + slice;
                bf16_t* values = v_cache + slice;
                if (first <= position && position < first + CHUNK) {
                    write_row(k, v, keys, values, sequence, kv_head, position);
                    __syncthreads();
                }
                for (int g = 0; g < GROUP; g++) {
                    const int head = kv_head * GROUP + g;
                    const int row = (sequence * HEADS + head) * HEAD_DIM;
                    float* out = partials + ((long) (sequence * HEADS + head) * SPLITS + split) * (HEAD_DIM + 2);
                    if (first > position) {  // nothing of this chunk is attended yet
                        for (int d = threadIdx.x; d < HEAD_DIM + 2; d += THREADS) {
                            out[d] = d == 0 ? __uint_as_float(0xff800000u) : 0.0f;
                        }
                        continue;
                    }
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) query[d] = bf16_to_f32(q[row + d]);
                    __syncthreads();
                    float chunk_max, sum;
                    softmax_chunk(query, keys, first, last, scores, slots, chunk_max, sum);
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) out[2 + d] = weighted_value(scores, values, first, last, d);
                    if (threadIdx.x == 0) {
                        out[0] = chunk_max;
                        out[1] = sum;
                    }
                    __syncthreads();  // query and scores are rewritten for the next head
                }
            }
            """;
}
