package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * Fused causal attention forward, FlashAttention-2 style: {@code o = softmax(q·kᵀ/√headDim, causal and
 * document mask)·v} and the log-sum-exp of every score row. One block of 4 warps per (64 queries, head,
 * sequence); each warp owns 16 query rows, keeps their q fragments and output accumulators in registers and
 * walks the key tiles of 64 up to the diagonal with an online softmax in FP32. Probabilities are rounded to
 * BF16 for the P·V MMA (the sum that normalizes them is not). Key and value tiles are staged in static
 * shared memory (at most 35 KiB, under the 48 KiB that needs no opt-in), one tile at a time.
 *
 * <p>Parameters: {@code q, k, v, [document_ids], o, lse}. Layouts in {@link dev.octet.compiler.cuda.attention}.
 */
public record FlashAttentionForward(AttentionShape shape) implements KernelSpec {
    static final int BLOCK_M = 64;
    static final int BLOCK_N = 64;
    static final int WARPS = 4;

    @Override
    public String kernelName() {
        return "flash_attention_forward_" + shape.suffix();
    }

    public List<KernelParam> params() {
        return AttentionParams.of(shape, List.of(KernelParam.in("q", DType.BF16), KernelParam.in("k", DType.BF16),
                KernelParam.in("v", DType.BF16)), KernelParam.out("o", DType.BF16), KernelParam.out("lse", DType.F32));
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Causal flash attention forward (BF16 MMA, FP32 online softmax), %s.
                q, o: bf16[%d tokens, %d heads × %d]; k, v: bf16[%d tokens, %d kv heads × %d]; lse: f32[%d, %d, %d].
                Tiles: %d queries × %d keys per step, %d warps of 16 query rows.""".formatted(
                shape.documentMask() ? "document-masked" : "no document mask",
                shape.tokens(), shape.heads(), shape.headDim(), shape.tokens(), shape.kvHeads(), shape.headDim(),
                shape.batch(), shape.heads(), shape.seq(), BLOCK_M, BLOCK_N, WARPS);
        String body = shape.constants() + """
                constexpr int BLOCK_M = %d;
                constexpr int BLOCK_N = %d;
                constexpr int THREADS = %d;
                constexpr int PITCH = HEAD_DIM + 8;  // shared row pitch: conflict-free fragment loads
                constexpr int K_STEPS = HEAD_DIM / 16;
                constexpr int D_TILES = HEAD_DIM / 8;
                constexpr int N_TILES = BLOCK_N / 8;
                """.formatted(BLOCK_M, BLOCK_N, WARPS * 32)
                + TensorCoreFragments.SOURCE + KERNEL
                .replace("$NAME", kernelName())
                .replace("$SIGNATURE", CudaKernel.signature(params()))
                .replace("$DOCS", shape.documentMask() ? "document_ids" : "nullptr");
        LaunchGeometry launch = new LaunchGeometry(shape.seq() / BLOCK_M, shape.heads(), shape.batch(), WARPS * 32, 1, 1, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(THREADS) $NAME$SIGNATURE {
                __shared__ __align__(16) bf16_t k_tile[BLOCK_N * PITCH];
                __shared__ __align__(16) bf16_t v_tile[BLOCK_N * PITCH];
                __shared__ int key_docs[BLOCK_N];
                const int* docs = $DOCS;
                // Causal blocks near the end of the sequence have the most keys: schedule them first.
                const int query_block = gridDim.x - 1 - blockIdx.x;
                const int head = blockIdx.y, batch = blockIdx.z, kv_head = head / GROUP;
                const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, c = 2 * (lane % 4);
                const long first_token = (long) batch * SEQ;
                const bf16_t* q_head = q + first_token * Q_STRIDE + head * HEAD_DIM;
                const bf16_t* k_head = k + first_token * KV_STRIDE + kv_head * HEAD_DIM;
                const bf16_t* v_head = v + first_token * KV_STRIDE + kv_head * HEAD_DIM;
                const int warp_row = query_block * BLOCK_M + warp * 16;
                // This thread's two query rows (positions in the sequence): g and g + 8 of the warp's 16.
                const int row_lo = warp_row + g, row_hi = row_lo + 8;
                const int doc_lo = DOCUMENT_MASK ? docs[first_token + row_lo] : 0;
                const int doc_hi = DOCUMENT_MASK ? docs[first_token + row_hi] : 0;

                unsigned q_frag[K_STEPS][4];
                for (int kk = 0; kk < K_STEPS; kk++) load_a(q_frag[kk], q_head, Q_STRIDE, warp_row, 16 * kk);

                float acc[D_TILES][4];
                for (int dt = 0; dt < D_TILES; dt++) acc[dt][0] = acc[dt][1] = acc[dt][2] = acc[dt][3] = 0.0f;
                // Running max of scaled scores (base-2 units) and this thread's part of the row sums.
                float max_lo = negative_infinity(), max_hi = negative_infinity(), sum_lo = 0.0f, sum_hi = 0.0f;

                const int last_key_block = (query_block * BLOCK_M + BLOCK_M - 1) / BLOCK_N;
                for (int key_block = 0; key_block <= last_key_block; key_block++) {
                    const int key0 = key_block * BLOCK_N;
                    __syncthreads();  // every warp is done with the previous tiles
                    copy_rows<BLOCK_N, PITCH, THREADS>(k_tile, k_head, KV_STRIDE, key0);
                    copy_rows<BLOCK_N, PITCH, THREADS>(v_tile, v_head, KV_STRIDE, key0);
                    if (DOCUMENT_MASK) {
                        for (int i = threadIdx.x; i < BLOCK_N; i += THREADS) key_docs[i] = docs[first_token + key0 + i];
                    }
                    __syncthreads();

                    float s[N_TILES][4];
                    for (int nt = 0; nt < N_TILES; nt++) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
                    for (int kk = 0; kk < K_STEPS; kk++) {
                        for (int nt = 0; nt < N_TILES; nt++) {
                            unsigned b0, b1;
                            load_b_from_rows(b0, b1, k_tile, PITCH, 16 * kk, 8 * nt);
                            mma_bf16(s[nt], q_frag[kk], b0, b1);
                        }
                    }

                    float new_max_lo = max_lo, new_max_hi = max_hi;
                    for (int nt = 0; nt < N_TILES; nt++) {
                        for (int e = 0; e < 4; e++) {
                            const int key = nt * 8 + c + (e & 1);
                            const int row = e < 2 ? row_lo : row_hi;
                            const bool visible = key0 + key <= row
                                    && (!DOCUMENT_MASK || key_docs[key] == (e < 2 ? doc_lo : doc_hi));
                            s[nt][e] = visible ? s[nt][e] * SCALE_LOG2E : negative_infinity();
                        }
                        new_max_lo = fmaxf(new_max_lo, fmaxf(s[nt][0], s[nt][1]));
                        new_max_hi = fmaxf(new_max_hi, fmaxf(s[nt][2], s[nt][3]));
                    }
                    // The four threads of a quad hold the same two rows.
                    for (int step = 1; step < 4; step <<= 1) {
                        new_max_lo = fmaxf(new_max_lo, __shfl_xor_sync(0xffffffffu, new_max_lo, step));
                        new_max_hi = fmaxf(new_max_hi, __shfl_xor_sync(0xffffffffu, new_max_hi, step));
                    }
                    // A row that has seen no visible key yet (only possible under a document mask) keeps max −inf:
                    // subtract 0 instead, so its probabilities are exp2(−inf) = 0 rather than NaN.
                    const float base_lo = new_max_lo == negative_infinity() ? 0.0f : new_max_lo;
                    const float base_hi = new_max_hi == negative_infinity() ? 0.0f : new_max_hi;
                    const float rescale_lo = exp2f(max_lo - base_lo), rescale_hi = exp2f(max_hi - base_hi);
                    sum_lo *= rescale_lo;
                    sum_hi *= rescale_hi;
                    for (int dt = 0; dt < D_TILES; dt++) {
                        acc[dt][0] *= rescale_lo;
                        acc[dt][1] *= rescale_lo;
                        acc[dt][2] *= rescale_hi;
                        acc[dt][3] *= rescale_hi;
                    }
                    for (int nt = 0; nt < N_TILES; nt++) {
                        s[nt][0] = exp2f(s[nt][0] - base_lo);
                        s[nt][1] = exp2f(s[nt][1] - base_lo);
                        s[nt][2] = exp2f(s[nt][2] - base_hi);
                        s[nt][3] = exp2f(s[nt][3] - base_hi);
                        sum_lo += s[nt][0] + s[nt][1];
                        sum_hi += s[nt][2] + s[nt][3];
                    }
                    max_lo = new_max_lo;
                    max_hi = new_max_hi;

                    for (int kk = 0; kk < BLOCK_N / 16; kk++) {
                        unsigned p[4];
                        a_from_accumulators(p, s[2 * kk], s[2 * kk + 1]);
                        for (int dt = 0; dt < D_TILES; dt++) {
                            unsigned b0, b1;
                            load_b_from_columns(b0, b1, v_tile, PITCH, 16 * kk, 8 * dt);
                            mma_bf16(acc[dt], p, b0, b1);
                        }
                    }
                }

                for (int step = 1; step < 4; step <<= 1) {
                    sum_lo += __shfl_xor_sync(0xffffffffu, sum_lo, step);
                    sum_hi += __shfl_xor_sync(0xffffffffu, sum_hi, step);
                }
                // Every query sees at least itself, so both sums are positive and both maxima finite.
                const float inv_lo = 1.0f / sum_lo, inv_hi = 1.0f / sum_hi;
                bf16_t* o_lo = o + (first_token + row_lo) * Q_STRIDE + head * HEAD_DIM;
                bf16_t* o_hi = o + (first_token + row_hi) * Q_STRIDE + head * HEAD_DIM;
                for (int dt = 0; dt < D_TILES; dt++) {
                    *reinterpret_cast<unsigned*>(o_lo + 8 * dt + c) = pack_bf16x2(acc[dt][0] * inv_lo, acc[dt][1] * inv_lo);
                    *reinterpret_cast<unsigned*>(o_hi + 8 * dt + c) = pack_bf16x2(acc[dt][2] * inv_hi, acc[dt][3] * inv_hi);
                }
                if (c == 0) {
                    float* lse_row = lse + ((long) batch * HEADS + head) * SEQ;
                    lse_row[row_lo] = (max_lo + log2f(sum_lo)) / LOG2E;
                    lse_row[row_hi] = (max_hi + log2f(sum_hi)) / LOG2E;
                }
            }
            """;
}
