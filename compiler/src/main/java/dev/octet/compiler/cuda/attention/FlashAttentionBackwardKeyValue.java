package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * Attention backward for keys and values: {@code dv = Σ pᵀ·dout} and {@code dk = Σ dsᵀ·q·scale} over every
 * query that sees the key, for all query heads of the key's group. One block of 4 warps per (64 keys, kv head,
 * sequence), each warp owning 16 keys and their dk, dv accumulators in registers; the block walks query tiles
 * from the diagonal to the end of the sequence, head after head of the group, recomputing {@code p} from q, k
 * and lse. A block writes every row it owns exactly once: deterministic, no atomics, and the grouped-query sum
 * is a plain register accumulation.
 *
 * <p>Transposed products keep keys as MMA rows: {@code sᵀ = k·qᵀ}, {@code dpᵀ = v·doutᵀ}, then
 * {@code dsᵀ = pᵀ∘(dpᵀ − delta)·scale}; {@code pᵀ} and {@code dsᵀ} are rounded to BF16 for the MMAs into dv, dk.
 * Query tiles are 64 rows for headDim 64 and 16 rows for headDim 128, so that k, v, q and dout tiles stay within
 * 48 KiB of static shared memory.
 *
 * <p>Parameters: {@code q, k, v, dout, lse, delta, [document_ids], dk, dv}.
 */
public record FlashAttentionBackwardKeyValue(AttentionShape shape) implements KernelSpec {
    static final int BLOCK_N = 64;
    static final int WARPS = 4;

    /** Queries per step: as many as fit beside the key and value tiles. */
    int blockM() {
        return shape.headDim() == 64 ? 64 : 16;
    }

    @Override
    public String kernelName() {
        return "flash_attention_backward_dkdv_" + shape.suffix();
    }

    public List<KernelParam> params() {
        return AttentionParams.backward(shape, KernelParam.in("q", DType.BF16), KernelParam.in("k", DType.BF16),
                KernelParam.in("v", DType.BF16), KernelParam.in("dout", DType.BF16), KernelParam.out("dk", DType.BF16), KernelParam.out("dv", DType.BF16));
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Causal flash attention backward for dk and dv (BF16 MMA, FP32 accumulation), %s.
                q, dout: bf16[%d tokens, %d heads × %d]; k, v, dk, dv: bf16[%d tokens, %d kv heads × %d];
                lse, delta: f32[%d, %d, %d]. Tiles: %d keys (%d warps of 16) × %d queries per step.""".formatted(
                shape.documentMask() ? "document-masked" : "no document mask",
                shape.tokens(), shape.heads(), shape.headDim(), shape.tokens(), shape.kvHeads(), shape.headDim(),
                shape.batch(), shape.heads(), shape.seq(), BLOCK_N, WARPS, blockM());
        String body = shape.constants() + shape.scaleConstant() + """
                constexpr int BLOCK_N = %d;
                constexpr int BLOCK_M = %d;
                constexpr int THREADS = %d;
                constexpr int PITCH = HEAD_DIM + 8;  // shared row pitch: conflict-free fragment loads
                constexpr int K_STEPS = HEAD_DIM / 16;
                constexpr int D_TILES = HEAD_DIM / 8;
                constexpr int M_TILES = BLOCK_M / 8;
                """.formatted(BLOCK_N, blockM(), WARPS * 32)
                + TensorCoreFragments.SOURCE + KERNEL
                .replace("$NAME", kernelName())
                .replace("$SIGNATURE", CudaKernel.signature(params()))
                .replace("$DOCS", shape.documentMask() ? "document_ids" : "nullptr");
        LaunchGeometry launch = new LaunchGeometry(shape.seq() / BLOCK_N, shape.kvHeads(), shape.batch(), WARPS * 32, 1, 1, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(THREADS) $NAME$SIGNATURE {
                __shared__ __align__(16) bf16_t k_tile[BLOCK_N * PITCH];
                __shared__ __align__(16) bf16_t v_tile[BLOCK_N * PITCH];
                __shared__ __align__(16) bf16_t q_tile[BLOCK_M * PITCH];
                __shared__ __align__(16) bf16_t dout_tile[BLOCK_M * PITCH];
                __shared__ float lse_tile[BLOCK_M];    // base-2 units
                __shared__ float delta_tile[BLOCK_M];
                __shared__ int query_docs[BLOCK_M];
                const int* docs = $DOCS;
                // The first key blocks are seen by the most queries: blockIdx.x = 0 is scheduled first.
                const int key0 = blockIdx.x * BLOCK_N;
                const int kv_head = blockIdx.y, batch = blockIdx.z;
                const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, c = 2 * (lane % 4);
                const long first_token = (long) batch * SEQ;
                // This thread's two keys (positions in the sequence): rows g and g + 8 of the warp's 16.
                const int key_lo = key0 + warp * 16 + g, key_hi = key_lo + 8;
                const int doc_lo = DOCUMENT_MASK ? docs[first_token + key_lo] : 0;
                const int doc_hi = DOCUMENT_MASK ? docs[first_token + key_hi] : 0;

                copy_rows<BLOCK_N, PITCH, THREADS>(k_tile, k + first_token * KV_STRIDE + kv_head * HEAD_DIM, KV_STRIDE, key0);
                copy_rows<BLOCK_N, PITCH, THREADS>(v_tile, v + first_token * KV_STRIDE + kv_head * HEAD_DIM, KV_STRIDE, key0);

                float dk_acc[D_TILES][4], dv_acc[D_TILES][4];
                for (int dt = 0; dt < D_TILES; dt++) {
                    dk_acc[dt][0] = dk_acc[dt][1] = dk_acc[dt][2] = dk_acc[dt][3] = 0.0f;
                    dv_acc[dt][0] = dv_acc[dt][1] = dv_acc[dt][2] = dv_acc[dt][3] = 0.0f;
                }

                for (int head = kv_head * GROUP; head < (kv_head + 1) * GROUP; head++) {
                    const bf16_t* q_head = q + first_token * Q_STRIDE + head * HEAD_DIM;
                    const bf16_t* dout_head = dout + first_token * Q_STRIDE + head * HEAD_DIM;
                    const float* lse_head = lse + ((long) batch * HEADS + head) * SEQ;
                    const float* delta_head = delta + ((long) batch * HEADS + head) * SEQ;
                    // Queries before key0 cannot see these keys; BLOCK_M divides BLOCK_N, so start at key0.
                    for (int query0 = key0; query0 < SEQ; query0 += BLOCK_M) {
                        __syncthreads();  // every warp is done with the previous query tiles
                        copy_rows<BLOCK_M, PITCH, THREADS>(q_tile, q_head, Q_STRIDE, query0);
                        copy_rows<BLOCK_M, PITCH, THREADS>(dout_tile, dout_head, Q_STRIDE, query0);
                        for (int i = threadIdx.x; i < BLOCK_M; i += THREADS) {
                            lse_tile[i] = lse_head[query0 + i] * LOG2E;
                            delta_tile[i] = delta_head[query0 + i];
                            if (DOCUMENT_MASK) query_docs[i] = docs[first_token + query0 + i];
                        }
                        __syncthreads();

                        float st[M_TILES][4], dpt[M_TILES][4];
                        for (int mt = 0; mt < M_TILES; mt++) {
                            st[mt][0] = st[mt][1] = st[mt][2] = st[mt][3] = 0.0f;
                            dpt[mt][0] = dpt[mt][1] = dpt[mt][2] = dpt[mt][3] = 0.0f;
                        }
                        for (int kk = 0; kk < K_STEPS; kk++) {
                            unsigned a[4], b0, b1;
                            load_a(a, k_tile, PITCH, warp * 16, 16 * kk);
                            for (int mt = 0; mt < M_TILES; mt++) {
                                load_b_from_rows(b0, b1, q_tile, PITCH, 16 * kk, 8 * mt);
                                mma_bf16(st[mt], a, b0, b1);
                            }
                            load_a(a, v_tile, PITCH, warp * 16, 16 * kk);
                            for (int mt = 0; mt < M_TILES; mt++) {
                                load_b_from_rows(b0, b1, dout_tile, PITCH, 16 * kk, 8 * mt);
                                mma_bf16(dpt[mt], a, b0, b1);
                            }
                        }

                        for (int mt = 0; mt < M_TILES; mt++) {
                            for (int e = 0; e < 4; e++) {
                                const int query = mt * 8 + c + (e & 1);
                                const int key = e < 2 ? key_lo : key_hi;
                                const bool visible = key <= query0 + query
                                        && (!DOCUMENT_MASK || query_docs[query] == (e < 2 ? doc_lo : doc_hi));
                                const float p = visible ? exp2f(st[mt][e] * SCALE_LOG2E - lse_tile[query]) : 0.0f;
                                st[mt][e] = p;
                                dpt[mt][e] = p * (dpt[mt][e] - delta_tile[query]) * SCALE;
                            }
                        }

                        for (int kk = 0; kk < BLOCK_M / 16; kk++) {
                            unsigned a[4], b0, b1;
                            a_from_accumulators(a, st[2 * kk], st[2 * kk + 1]);
                            for (int dt = 0; dt < D_TILES; dt++) {
                                load_b_from_columns(b0, b1, dout_tile, PITCH, 16 * kk, 8 * dt);
                                mma_bf16(dv_acc[dt], a, b0, b1);
                            }
                            a_from_accumulators(a, dpt[2 * kk], dpt[2 * kk + 1]);
                            for (int dt = 0; dt < D_TILES; dt++) {
                                load_b_from_columns(b0, b1, q_tile, PITCH, 16 * kk, 8 * dt);
                                mma_bf16(dk_acc[dt], a, b0, b1);
                            }
                        }
                    }
                }

                bf16_t* dk_lo = dk + (first_token + key_lo) * KV_STRIDE + kv_head * HEAD_DIM;
                bf16_t* dk_hi = dk + (first_token + key_hi) * KV_STRIDE + kv_head * HEAD_DIM;
                bf16_t* dv_lo = dv + (first_token + key_lo) * KV_STRIDE + kv_head * HEAD_DIM;
                bf16_t* dv_hi = dv + (first_token + key_hi) * KV_STRIDE + kv_head * HEAD_DIM;
                for (int dt = 0; dt < D_TILES; dt++) {
                    *reinterpret_cast<unsigned*>(dk_lo + 8 * dt + c) = pack_bf16x2(dk_acc[dt][0], dk_acc[dt][1]);
                    *reinterpret_cast<unsigned*>(dk_hi + 8 * dt + c) = pack_bf16x2(dk_acc[dt][2], dk_acc[dt][3]);
                    *reinterpret_cast<unsigned*>(dv_lo + 8 * dt + c) = pack_bf16x2(dv_acc[dt][0], dv_acc[dt][1]);
                    *reinterpret_cast<unsigned*>(dv_hi + 8 * dt + c) = pack_bf16x2(dv_acc[dt][2], dv_acc[dt][3]);
                }
            }
            """;
}
