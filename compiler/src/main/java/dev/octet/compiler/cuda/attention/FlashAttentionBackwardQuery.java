package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * Attention backward for queries: {@code dq = Σ ds·k} with {@code ds = p∘(dout·vᵀ − delta)·scale} over the keys
 * each query sees. One block of 4 warps per (64 queries, head, sequence), each warp owning 16 query rows with
 * their q and dout fragments and dq accumulators in registers, walking key tiles up to the diagonal and
 * recomputing {@code p} from q, k and lse. Each dq row is written once by one block: deterministic, no atomics.
 * {@code ds} is rounded to BF16 for the MMA into dq. Key tiles are 64 keys for headDim 64 and 32 for headDim 128,
 * which keeps the registers of a thread under 255 without spills.
 *
 * <p>Parameters: {@code q, k, v, dout, lse, delta, [document_ids], dq}.
 */
public record FlashAttentionBackwardQuery(AttentionShape shape) implements KernelSpec {
    static final int BLOCK_M = 64;
    static final int WARPS = 4;

    /** Keys per step: fewer for the wider head, whose q, dout and dq fragments take twice the registers. */
    int blockN() {
        return shape.headDim() == 64 ? 64 : 32;
    }

    @Override
    public String kernelName() {
        return "flash_attention_backward_dq_" + shape.suffix();
    }

    public List<KernelParam> params() {
        return AttentionParams.backward(shape, KernelParam.in("q", DType.BF16), KernelParam.in("k", DType.BF16),
                KernelParam.in("v", DType.BF16), KernelParam.in("dout", DType.BF16), KernelParam.out("dq", DType.BF16));
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Causal flash attention backward for dq (BF16 MMA, FP32 accumulation), %s.
                q, dout, dq: bf16[%d tokens, %d heads × %d]; k, v: bf16[%d tokens, %d kv heads × %d];
                lse, delta: f32[%d, %d, %d]. Tiles: %d queries (%d warps of 16) × %d keys per step.""".formatted(
                shape.documentMask() ? "document-masked" : "no document mask",
                shape.tokens(), shape.heads(), shape.headDim(), shape.tokens(), shape.kvHeads(), shape.headDim(),
                shape.batch(), shape.heads(), shape.seq(), BLOCK_M, WARPS, blockN());
        String body = shape.constants() + shape.scaleConstant() + """
                constexpr int BLOCK_M = %d;
                constexpr int BLOCK_N = %d;
                constexpr int THREADS = %d;
                constexpr int PITCH = HEAD_DIM + 8;  // shared row pitch: conflict-free fragment loads
                constexpr int K_STEPS = HEAD_DIM / 16;
                constexpr int D_TILES = HEAD_DIM / 8;
                constexpr int N_TILES = BLOCK_N / 8;
                """.formatted(BLOCK_M, blockN(), WARPS * 32)
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
                const bf16_t* k_head = k + first_token * KV_STRIDE + kv_head * HEAD_DIM;
                const bf16_t* v_head = v + first_token * KV_STRIDE + kv_head * HEAD_DIM;
                const int warp_row = query_block * BLOCK_M + warp * 16;
                // This thread's two query rows (positions in the sequence): g and g + 8 of the warp's 16.
                const int row_lo = warp_row + g, row_hi = row_lo + 8;
                const int doc_lo = DOCUMENT_MASK ? docs[first_token + row_lo] : 0;
                const int doc_hi = DOCUMENT_MASK ? docs[first_token + row_hi] : 0;
                const float* lse_head = lse + ((long) batch * HEADS + head) * SEQ;
                const float* delta_head = delta + ((long) batch * HEADS + head) * SEQ;
                const float lse_lo = lse_head[row_lo] * LOG2E, lse_hi = lse_head[row_hi] * LOG2E;
                const float delta_lo = delta_head[row_lo], delta_hi = delta_head[row_hi];

                unsigned q_frag[K_STEPS][4], dout_frag[K_STEPS][4];
                for (int kk = 0; kk < K_STEPS; kk++) {
                    load_a(q_frag[kk], q + first_token * Q_STRIDE + head * HEAD_DIM, Q_STRIDE, warp_row, 16 * kk);
                    load_a(dout_frag[kk], dout + first_token * Q_STRIDE + head * HEAD_DIM, Q_STRIDE, warp_row, 16 * kk);
                }
                float dq_acc[D_TILES][4];
                for (int dt = 0; dt < D_TILES; dt++) dq_acc[dt][0] = dq_acc[dt][1] = dq_acc[dt][2] = dq_acc[dt][3] = 0.0f;

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

                    float s[N_TILES][4], dp[N_TILES][4];
                    for (int nt = 0; nt < N_TILES; nt++) {
                        s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
                        dp[nt][0] = dp[nt][1] = dp[nt][2] = dp[nt][3] = 0.0f;
                    }
                    for (int kk = 0; kk < K_STEPS; kk++) {
                        for (int nt = 0; nt < N_TILES; nt++) {
                            unsigned b0, b1;
                            load_b_from_rows(b0, b1, k_tile, PITCH, 16 * kk, 8 * nt);
                            mma_bf16(s[nt], q_frag[kk], b0, b1);
                            load_b_from_rows(b0, b1, v_tile, PITCH, 16 * kk, 8 * nt);
                            mma_bf16(dp[nt], dout_frag[kk], b0, b1);
                        }
                    }

                    // s becomes ds = p∘(dp − delta)·scale.
                    for (int nt = 0; nt < N_TILES; nt++) {
                        for (int e = 0; e < 4; e++) {
                            const int key = nt * 8 + c + (e & 1);
                            const int row = e < 2 ? row_lo : row_hi;
                            const bool visible = key0 + key <= row
                                    && (!DOCUMENT_MASK || key_docs[key] == (e < 2 ? doc_lo : doc_hi));
                            const float p = visible ? exp2f(s[nt][e] * SCALE_LOG2E - (e < 2 ? lse_lo : lse_hi)) : 0.0f;
                            s[nt][e] = p * (dp[nt][e] - (e < 2 ? delta_lo : delta_hi)) * SCALE;
                        }
                    }

                    for (int kk = 0; kk < BLOCK_N / 16; kk++) {
                        unsigned a[4];
                        a_from_accumulators(a, s[2 * kk], s[2 * kk + 1]);
                        for (int dt = 0; dt < D_TILES; dt++) {
                            unsigned b0, b1;
                            load_b_from_columns(b0, b1, k_tile, PITCH, 16 * kk, 8 * dt);
                            mma_bf16(dq_acc[dt], a, b0, b1);
                        }
                    }
                }

                bf16_t* dq_lo = dq + (first_token + row_lo) * Q_STRIDE + head * HEAD_DIM;
                bf16_t* dq_hi = dq + (first_token + row_hi) * Q_STRIDE + head * HEAD_DIM;
                for (int dt = 0; dt < D_TILES; dt++) {
                    *reinterpret_cast<unsigned*>(dq_lo + 8 * dt + c) = pack_bf16x2(dq_acc[dt][0], dq_acc[dt][1]);
                    *reinterpret_cast<unsigned*>(dq_hi + 8 * dt + c) = pack_bf16x2(dq_acc[dt][2], dq_acc[dt][3]);
                }
            }
            """;
}
