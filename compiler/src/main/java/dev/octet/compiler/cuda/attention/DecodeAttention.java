package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * Attention of one decoding step: each of {@code sequences} sequences brings one new token. One block per
 * (sequence, kv head) first writes the token's k and v row at its position of that sequence's cache, then,
 * for each query head of the group, scores every cached key up to the position (one thread per key), takes
 * the max-subtracted exponentials and their sum, and writes the weighted values rounded once to BF16: the steps
 * of the CPU reference ({@code dev.octet.cpu.ops.CachedAttention}) in FP32, dividing by the sum once at the end.
 *
 * <p>The block owns its (sequence, kv head) slice of both caches, so the write and the reads that follow need
 * only a block barrier. A position outside {@code [0, maxSeq)} (the host never passes one) leaves the output
 * row and the cache untouched. Scores sit in static shared memory, one float per position.
 *
 * <p>Parameters: {@code q, k, v, positions, k_cache, v_cache, o}; caches are bf16[sequences, maxSeq, kvHeads·headDim].
 */
public record DecodeAttention(int sequences, int maxSeq, int heads, int kvHeads, int headDim) implements KernelSpec {
    static final int THREADS = 128;
    /** Static shared memory that needs no opt-in, less the query row and the reduction slots. */
    public static final int MAX_POSITIONS = (48 * 1024 - 4 * 1024) / 4;

    public DecodeAttention {
        require(maxSeq <= MAX_POSITIONS, "max_seq must be at most " + MAX_POSITIONS
                + " (one shared-memory score per position; DecodeAttentionSplit serves longer caches), got " + maxSeq);
        requireShape(sequences, maxSeq, heads, kvHeads, headDim);
    }

    /** What every decoding attention kernel needs of its shape. */
    static void requireShape(int sequences, int maxSeq, int heads, int kvHeads, int headDim) {
        require(sequences >= 1, "sequences must be at least 1, got " + sequences);
        require(maxSeq >= 1, "max_seq must be at least 1, got " + maxSeq);
        require(heads >= 1 && kvHeads >= 1 && heads % kvHeads == 0, "heads (" + heads
                + ") must be a positive multiple of kv_heads (" + kvHeads + ")");
        require(headDim >= 1 && headDim <= 1024, "head_dim must be in [1, 1024], got " + headDim);
        require((long) sequences * maxSeq * kvHeads * headDim <= Integer.MAX_VALUE,
                "sequences·max_seq·kv_heads·head_dim must fit in 32-bit indices");
    }

    @Override
    public String kernelName() {
        return "decode_attention_s" + sequences + "_m" + maxSeq + "_h" + heads + "_kv" + kvHeads + "_d" + headDim;
    }

    public List<KernelParam> params() {
        return List.of(KernelParam.in("q", DType.BF16), KernelParam.in("k", DType.BF16), KernelParam.in("v", DType.BF16),
                KernelParam.in("positions", DType.I32), KernelParam.inOut("k_cache", DType.BF16),
                KernelParam.inOut("v_cache", DType.BF16), KernelParam.out("o", DType.BF16));
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Attention of one decoding step over key/value caches (FP32 softmax, one BF16 rounding of o).
                q, o: bf16[%d sequences, %d heads × %d]; k, v: bf16[%d, %d kv heads × %d];
                caches: bf16[%d sequences, %d positions, %d kv heads × %d]; one block per (sequence, kv head).""".formatted(
                sequences, heads, headDim, sequences, kvHeads, headDim, sequences, maxSeq, kvHeads, headDim);
        String body = """
                constexpr int SEQUENCES = %d;
                constexpr int MAX_SEQ = %d;
                constexpr int HEADS = %d;
                constexpr int KV_HEADS = %d;
                constexpr int HEAD_DIM = %d;
                constexpr int GROUP = HEADS / KV_HEADS;
                constexpr int KV_ROW = KV_HEADS * HEAD_DIM;
                constexpr int THREADS = %d;
                constexpr int WARPS = THREADS / 32;
                constexpr float SCALE = %sf;  // 1/sqrt(head_dim), rounded to FP32
                """.formatted(sequences, maxSeq, heads, kvHeads, headDim, THREADS, Float.toString((float) (1.0 / Math.sqrt(headDim))))
                + BLOCK_REDUCE + KERNEL.replace("$NAME", kernelName()).replace("$SIGNATURE", CudaKernel.signature(params()));
        LaunchGeometry launch = LaunchGeometry.linear(sequences * kvHeads, THREADS, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    /** {@code block_reduce(v, slots, take_max)} over a block of WARPS warps; shared with {@link DecodeAttentionSplit}. */
    static final String BLOCK_REDUCE = """
            // Every thread returns the block-wide reduction; slots are reused, so a barrier precedes each write.
            __device__ __forceinline__ float block_reduce(float v, float* slots, bool take_max) {
                v = take_max ? warp_max(v) : warp_sum(v);
                __syncthreads();
                if ((threadIdx.x & 31) == 0) slots[threadIdx.x >> 5] = v;
                __syncthreads();
                float r = slots[0];
                for (int w = 1; w < WARPS; w++) r = take_max ? fmaxf(r, slots[w]) : r + slots[w];
                return r;
            }

            """;

    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(THREADS) $NAME$SIGNATURE {
                __shared__ float scores[MAX_SEQ];
                __shared__ float query[HEAD_DIM];
                __shared__ float slots[WARPS];
                const int sequence = blockIdx.x / KV_HEADS, kv_head = blockIdx.x % KV_HEADS;
                const int position = positions[sequence];
                if (position < 0 || position >= MAX_SEQ) return;
                const long slice = (long) sequence * MAX_SEQ * KV_ROW + kv_head * HEAD_DIM;
                bf16_t* keys = k_cache + slice;
                bf16_t* values = v_cache + slice;
                for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) {
                    keys[position * KV_ROW + d] = k[sequence * KV_ROW + kv_head * HEAD_DIM + d];
                    values[position * KV_ROW + d] = v[sequence * KV_ROW + kv_head * HEAD_DIM + d];
                }
                __syncthreads();
                for (int g = 0; g < GROUP; g++) {
                    const int row = (sequence * HEADS + kv_head * GROUP + g) * HEAD_DIM;
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) query[d] = bf16_to_f32(q[row + d]);
                    __syncthreads();
                    float local_max = __uint_as_float(0xff800000u);  // -inf; NVRTC has no math.h macros
                    for (int p = threadIdx.x; p <= position; p += THREADS) {
                        const bf16_t* key = keys + p * KV_ROW;
                        float dot = 0.0f;
                        for (int d = 0; d < HEAD_DIM; d++) dot = fmaf(query[d], bf16_to_f32(key[d]), dot);
                        scores[p] = dot * SCALE;
                        local_max = fmaxf(local_max, scores[p]);
                    }
                    const float row_max = block_reduce(local_max, slots, true);
                    float local_sum = 0.0f;
                    for (int p = threadIdx.x; p <= position; p += THREADS) {
                        scores[p] = expf(scores[p] - row_max);
                        local_sum += scores[p];
                    }
                    const float sum = block_reduce(local_sum, slots, false);  // its barriers publish the scores
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) {
                        float acc = 0.0f;
                        for (int p = 0; p <= position; p++) acc = fmaf(scores[p], bf16_to_f32(values[p * KV_ROW + d]), acc);
                        o[row + d] = f32_to_bf16(acc / sum);
                    }
                    __syncthreads();  // query and scores are rewritten for the next head
                }
            }
            """;

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("decode attention shape: " + message);
        }
    }
}
