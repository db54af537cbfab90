package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
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
    static final int THREADS = 128;

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
        return List.of(KernelParam.in("q", DType.BF16), KernelParam.in("k", DType.BF16), KernelParam.in("v", DType.BF16),
                KernelParam.in("positions", DType.I32), KernelParam.inOut("k_cache", DType.BF16),
                KernelParam.inOut("v_cache", DType.BF16), KernelParam.out("partials", DType.F32));
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Attention of one decoding step, split along the cached positions in chunks of %d (FP32 partials).
                q: bf16[%d sequences, %d heads × %d]; k, v: bf16[%d, %d kv heads × %d];
                caches: bf16[%d sequences, %d positions, %d kv heads × %d]; partials f32[%d, %d, %d splits, %d + 2];
                one block per (sequence, kv head, chunk).""".formatted(CHUNK, sequences, heads, headDim, sequences, kvHeads,
                headDim, sequences, maxSeq, kvHeads, headDim, sequences, heads, splits(), headDim);
        String body = """
                constexpr int MAX_SEQ = %d;
                constexpr int HEADS = %d;
                constexpr int KV_HEADS = %d;
                constexpr int HEAD_DIM = %d;
                constexpr int GROUP = HEADS / KV_HEADS;
                constexpr int KV_ROW = KV_HEADS * HEAD_DIM;
                constexpr int CHUNK = %d;
                constexpr int SPLITS = %d;
                constexpr int THREADS = %d;
                constexpr int WARPS = THREADS / 32;
                constexpr float SCALE = %sf;  // 1/sqrt(head_dim), rounded to FP32
                """.formatted(maxSeq, heads, kvHeads, headDim, CHUNK, splits(), THREADS,
                Float.toString((float) (1.0 / Math.sqrt(headDim))))
                + DecodeAttention.BLOCK_REDUCE
                + KERNEL.replace("$NAME", kernelName()).replace("$SIGNATURE", CudaKernel.signature(params()));
        LaunchGeometry launch = LaunchGeometry.linear(sequences * kvHeads * splits(), THREADS, 0);
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
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) {
                        keys[position * KV_ROW + d] = k[sequence * KV_ROW + kv_head * HEAD_DIM + d];
                        values[position * KV_ROW + d] = v[sequence * KV_ROW + kv_head * HEAD_DIM + d];
                    }
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
                    float local_max = __uint_as_float(0xff800000u);  // -inf; NVRTC has no math.h macros
                    for (int p = first + threadIdx.x; p <= last; p += THREADS) {
                        const bf16_t* key = keys + p * KV_ROW;
                        float dot = 0.0f;
                        for (int d = 0; d < HEAD_DIM; d++) dot = fmaf(query[d], bf16_to_f32(key[d]), dot);
                        scores[p - first] = dot * SCALE;
                        local_max = fmaxf(local_max, scores[p - first]);
                    }
                    const float chunk_max = block_reduce(local_max, slots, true);
                    float local_sum = 0.0f;
                    for (int p = first + threadIdx.x; p <= last; p += THREADS) {
                        scores[p - first] = expf(scores[p - first] - chunk_max);
                        local_sum += scores[p - first];
                    }
                    const float sum = block_reduce(local_sum, slots, false);  // its barriers publish the scores
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) {
                        float acc = 0.0f;
                        for (int p = first; p <= last; p++) acc = fmaf(scores[p - first], bf16_to_f32(values[p * KV_ROW + d]), acc);
                        out[2 + d] = acc;
                    }
                    if (threadIdx.x == 0) {
                        out[0] = chunk_max;
                        out[1] = sum;
                    }
                    __syncthreads();  // query and scores are rewritten for the next head
                }
            }
            """;
}
