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
        List<KernelParam> params = new ArrayList<>(cacheParams());
        params.add(KernelParam.out("o", DType.BF16));
        return params;
    }

    /** The new tokens' q, k, v, the sequences' positions and the caches: what every decoding attention reads. */
    static List<KernelParam> cacheParams() {
        return List.of(KernelParam.in("q", DType.BF16), KernelParam.in("k", DType.BF16), KernelParam.in("v", DType.BF16),
                KernelParam.in("positions", DType.I32), KernelParam.inOut("k_cache", DType.BF16),
                KernelParam.inOut("v_cache", DType.BF16));
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Attention of one decoding step over key/value caches (FP32 softmax, one BF16 rounding of o).
                q, o: bf16[%d sequences, %d heads × %d]; k, v: bf16[%d, %d kv heads × %d];
                caches: bf16[%d sequences, %d positions, %d kv heads × %d]; one block per (sequence, kv head).""".formatted(
                sequences, heads, headDim, sequences, kvHeads, headDim, sequences, maxSeq, kvHeads, headDim);
        String body = definitions(maxSeq, heads, kvHeads, headDim)
                + KERNEL.replace("$NAME", kernelName()).replace("$SIGNATURE", CudaKernel.signature(params()));
        LaunchGeometry launch = LaunchGeometry.linear(sequences * kvHeads, THREADS, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    /**
     * The shape's constants and the device functions every decoding attention kernel uses: {@code write_row} (the new
     * token's k and v into the caches), {@code softmax_chunk} (one query against a run of cached keys) and
     * {@code weighted_value} (their exponentials times the cached values). Each kernel's block owns one (sequence, kv
     * head) slice of the caches and a run of its positions.
     */
    static String definitions(int maxSeq, int heads, int kvHeads, int headDim) {
        return """
                constexpr int MAX_SEQ = %d;
                constexpr int HEADS = %d;
                constexpr int KV_HEADS = %d;
                constexpr int HEAD_DIM = %d;
                constexpr int GROUP = HEADS / KV_HEADS;
                constexpr int KV_ROW = KV_HEADS * HEAD_DIM;
                constexpr int THREADS = %d;
                constexpr int WARPS = THREADS / 32;
                constexpr float SCALE = %sf;  // 1/sqrt(head_dim), rounded to FP32
                """.formatted(maxSeq, heads, kvHeads, headDim, THREADS, Float.toString((float) (1.0 / Math.sqrt(headDim))))
                + DEVICE_FUNCTIONS;
    }

    private static final String DEVICE_FUNCTIONS = """
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

            // The sequence's new k and v row at its position of the block's cache slice (keys, values).
            __device__ __forceinline__ void write_row(const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, bf16_t* keys,
                                                      bf16_t* values, int sequence, int kv_head, int position) {
                for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) {
                    keys[position * KV_ROW + d] = k[sequence * KV_ROW + kv_head * HEAD_DIM + d];
                    values[position * KV_ROW + d] = v[sequence * KV_ROW + kv_head * HEAD_DIM + d];
                }
            }

            // The query's scores against cached keys first..last (inclusive), one thread per key, then their
            // exponentials less the largest, in scores[p - first]; that largest and the exponentials' sum come back in
            // row_max and sum. Every thread of the block calls it: the reductions' barriers publish the scores.
            __device__ __forceinline__ void softmax_chunk(const float* query, const bf16_t* keys, int first, int last,
                                                          float* scores, float* slots, float& row_max, float& sum) {
                float local_max = __uint_as_float(0xff800000u);  // -inf; NVRTC has no math.h macros
                for (int p = first + threadIdx.x; p <= last; p += THREADS) {
                    const bf16_t* key = keys + p * KV_ROW;
                    float dot = 0.0f;
                    for (int d = 0; d < HEAD_DIM; d++) dot = fmaf(query[d], bf16_to_f32(key[d]), dot);
                    scores[p - first] = dot * SCALE;
                    local_max = fmaxf(local_max, scores[p - first]);
                }
                row_max = block_reduce(local_max, slots, true);
                float local_sum = 0.0f;
                for (int p = first + threadIdx.x; p <= last; p += THREADS) {
                    scores[p - first] = expf(scores[p - first] - row_max);
                    local_sum += scores[p - first];
                }
                sum = block_reduce(local_sum, slots, false);
            }

            // Dimension d of the cached values first..last weighted by the exponentials softmax_chunk left.
            __device__ __forceinline__ float weighted_value(const float* scores, const bf16_t* values, int first, int last, int d) {
                float acc = 0.0f;
                for (int p = first; p <= last; p++) acc = fmaf(scores[p - first], bf16_to_f32(values[p * KV_ROW + d]), acc);
                return acc;
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
                write_row(k, v, keys, values, sequence, kv_head, position);
                __syncthreads();
                for (int g = 0; g < GROUP; g++) {
                    const int row = (sequence * HEADS + kv_head * GROUP + g) * HEAD_DIM;
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) query[d] = bf16_to_f32(q[row + d]);
                    __syncthreads();
                    float row_max, sum;
                    softmax_chunk(query, keys, 0, position, scores, slots, row_max, sum);
                    for (int d = threadIdx.x; d < HEAD_DIM; d += THREADS) {
                        o[row + d] = f32_to_bf16(weighted_value(scores, values, 0, position, d) / sum);
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
