package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.TensorMapView;
import dev.octet.compiler.ir.DType;
import java.util.function.IntPredicate;

/**
 * Device code and parameters that the Hopper attention kernels ({@link FlashAttentionForwardHopper},
 * {@link FlashAttentionBackwardKeyValueHopper}, {@link FlashAttentionBackwardQueryHopper}) have in common. Each
 * kernel names its own tile constants ({@code S_FRAGS}, {@code Q_PANEL_BYTES}, ...); what differs between them is
 * passed in as the names of those constants, so that every kernel's text reads as if written for it alone.
 *
 * <p>A consumer thread holds, per warp of 16 rows, rows g and g + 8 (g = lane / 4) and, in every n8 column group
 * j, columns 8j + c and 8j + c + 1 (c = 2·(lane % 4)): mma.sync's m16n8 layout, repeated.
 */
final class HopperAttentionSource {
    /** BF16 columns in one 128-byte swizzled row: tiles are stored as headDim/64 panels of this width. */
    static final int PANEL_COLUMNS = 64;

    /** One producer and two consumer warpgroups. */
    static final int THREADS = 384;
    /** Dynamic shared memory an sm_90 block may have. */
    static final int SHARED_LIMIT = 227 * 1024;

    private HopperAttentionSource() {
    }

    /** The most stages from 2 in steps of {@code step}, at most {@code max}, for which {@code fits} holds. */
    static int maxStages(int max, int step, IntPredicate fits) {
        int stages = 2;
        while (stages + step <= max && fits.test(stages + step)) {
            stages += step;
        }
        return stages;
    }

    static final String SCALAR_FUNCTIONS = """
            __device__ __forceinline__ float negative_infinity() {
                return __int_as_float(0xff800000);
            }

            // 2^x on the special function unit alone. exp2f's non-flushing form adds a range fix-up per call (two
            // more instructions for each score); results below 2^-126 become 0, well under what BF16 p resolves.
            __device__ __forceinline__ float exp2_ftz(float x) {
                float y;
                asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
                return y;
            }

            // Two floats to two BF16 (round to nearest even) in one register, lo in the low half.
            __device__ __forceinline__ unsigned pack_bf16x2(float lo, float hi) {
                unsigned r;
                asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
                return r;
            }

            """;

    static final String BULK_LOAD = """
            // A contiguous run of `bytes` (a multiple of 16, both addresses 16-byte aligned) from global memory into
            // shared memory by the bulk-copy engine, completing `bar`'s transaction count by `bytes`.
            __device__ __forceinline__ void bulk_load(void* dst, const void* src, unsigned bytes, unsigned long long* bar) {
                asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                             :: "r"(smem_u32(dst)), "l"((unsigned long long) src), "r"(bytes), "r"(smem_u32(bar))
                             : "memory");
            }

            """;

    static final String FENCE_FRAGMENTS = """
            template <int FRAGS>
            __device__ __forceinline__ void fence_fragments(float (&d)[FRAGS][4]) {
                #pragma unroll
                for (int j = 0; j < FRAGS; ++j)
                    #pragma unroll
                    for (int e = 0; e < 4; ++e) fence_register(d[j][e]);
            }

            """;

    static final String PACK_FRAGMENTS = """
            // BF16 A fragments of a 64 x 16·STEPS accumulator: columns 16kk.. are the n8 groups 2kk and 2kk+1.
            template <int STEPS>
            __device__ __forceinline__ void pack_fragments(unsigned (&a)[STEPS][4], const float (&s)[2 * STEPS][4]) {
                #pragma unroll
                for (int kk = 0; kk < STEPS; ++kk) {
                    a[kk][0] = pack_bf16x2(s[2 * kk][0], s[2 * kk][1]);
                    a[kk][1] = pack_bf16x2(s[2 * kk][2], s[2 * kk][3]);
                    a[kk][2] = pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
                    a[kk][3] = pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
                }
            }

            """;

    /**
     * {@code name(d, desc_a, desc_b, accumulate)}: d (64 × n, FP32, {@code frags} n8 groups) = or += a·bᵀ over 16
     * of headDim, both operands from shared memory, K-major. {@code comment} says what a and b are.
     */
    static String kMajorWgmma(String name, int n, String frags, String comment) {
        int registers = n / 2;
        return comment + """
                __device__ __forceinline__ void %7$s(float (&d)[%8$s][4], unsigned long long desc_a,
                                                     unsigned long long desc_b, int accumulate) {
                    asm volatile("{\\n.reg .pred p;\\nsetp.ne.b32 p, %%%2$d, 0;\\n"
                                 "wgmma.mma_async.sync.aligned.m64n%1$dk16.f32.bf16.bf16 {%3$s}, %%%4$d, %%%5$d, p, 1, 1, 0, 0;\\n}"
                                 : %6$s
                                 : "l"(desc_a), "l"(desc_b), "r"(accumulate));
                }

                """.formatted(n, registers + 2, outputList(registers), registers, registers + 1, accumulators(registers),
                name, frags);
    }

    /**
     * {@code name(d, a, desc_b)}: d (64 × n, FP32, {@code frags} n8 groups) += a·b over 16 rows of b, a as BF16
     * pairs in registers (the A fragment of m64nNk16, which is the accumulator layout of scores), b from shared
     * memory read MN-major (imm-trans-b = 1). {@code comment} says what a and b are.
     */
    static String mnMajorWgmma(String name, int n, String frags, String comment) {
        int registers = n / 2;
        return comment + """
                __device__ __forceinline__ void %9$s(float (&d)[%10$s][4], const unsigned (&a)[4],
                                                     unsigned long long desc_b) {
                    asm volatile("wgmma.mma_async.sync.aligned.m64n%1$dk16.f32.bf16.bf16 {%2$s}, {%%%3$d, %%%4$d, %%%5$d, %%%6$d}, %%%7$d, 1, 1, 1, 1;"
                                 : %8$s
                                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b));
                }

                """.formatted(n, outputList(registers), registers, registers + 1, registers + 2, registers + 3,
                registers + 4, accumulators(registers), name, frags);
    }

    /**
     * {@code name(d, a_rows, b_tile)}: issues d = a·bᵀ over all of headDim (HEAD_DIM / 16 K-major wgmmas of
     * {@code wgmma}) as one commit group; a and b are 64-column panels of {@code aPanelBytes} and
     * {@code bPanelBytes}.
     */
    static String issueKMajor(String name, String wgmma, String frags, String aPanelBytes, String bPanelBytes,
            String comment) {
        return comment + """
                __device__ __forceinline__ void %1$s(float (&d)[%3$s][4], unsigned a_rows, unsigned b_tile) {
                    #pragma unroll
                    for (int kk = 0; kk < HEAD_DIM / 16; ++kk) {
                        // 16 columns = 32 bytes along a 128-byte swizzled row; four steps per 64-column panel.
                        const unsigned a_at = a_rows + (kk / 4) * %4$s + (kk %% 4) * 32;
                        const unsigned b_at = b_tile + (kk / 4) * %5$s + (kk %% 4) * 32;
                        %2$s(d, wgmma_desc_k128b(a_at), wgmma_desc_k128b(b_at), kk > 0);
                    }
                    wgmma_commit();
                }

                """.formatted(name, wgmma, frags, aPanelBytes, bPanelBytes);
    }

    /**
     * {@code name(d, a, b_tile)}: issues d += a·b over {@code steps} k16 steps (MN-major wgmmas of {@code wgmma},
     * a from registers) as one commit group; b is 64-column panels of {@code bPanelBytes}.
     */
    static String issueMnMajor(String name, String wgmma, String frags, String steps, String bPanelBytes,
            String comment) {
        return comment + """
                __device__ __forceinline__ void %1$s(float (&d)[%3$s][4], const unsigned (&a)[%4$s][4],
                                                     unsigned b_tile) {
                    #pragma unroll
                    for (int kk = 0; kk < %4$s; ++kk) {
                        // 16 rows = two 8-row groups of 1024 bytes.
                        %2$s(d, a[kk], wgmma_desc_mn128b(b_tile + kk * 2048, %5$s));
                    }
                    wgmma_commit();
                }

                """.formatted(name, wgmma, frags, steps, bPanelBytes);
    }

    /**
     * The backward kernels' {@code mask_scores<CAUSAL>(s, column0, row_lo, row_hi, docs)}: hides the scores of
     * pairs that may not attend, a key after the query (the tiles crossing the diagonal) or of another document.
     * The rows are keys ({@code rowsAreKeys}, sᵀ) or queries (s); the documents of a tile's columns are read here,
     * not kept across the loop: at headDim 128 the consumers have no register to spare.
     */
    static String backwardMaskScores(boolean rowsAreKeys) {
        return """
                // Hides the scores of pairs that may not attend: a key after the query (the tiles crossing the
                // diagonal) or of another document. Rows are %1$s, columns %2$s.
                template <bool CAUSAL>
                __device__ __forceinline__ void mask_scores(float (&s)[S_FRAGS][4], int column0, int row_lo, int row_hi,
                                                            const int* docs) {
                    const int c = 2 * (threadIdx.x %% 4);
                    // Rows past the sequence are never stored or see no query: any document will do.
                    const int doc_lo = DOCUMENT_MASK ? docs[min(row_lo, SEQ - 1)] : 0;
                    const int doc_hi = DOCUMENT_MASK ? docs[min(row_hi, SEQ - 1)] : 0;
                    #pragma unroll
                    for (int j = 0; j < S_FRAGS; ++j) {
                        const int column = column0 + 8 * j + c;
                        int2 cd = make_int2(doc_lo, doc_lo);
                        // Visited column tiles lie inside the sequence, and column is even: an aligned pair of ids.
                        if (DOCUMENT_MASK) cd = *reinterpret_cast<const int2*>(docs + column);
                        #pragma unroll
                        for (int e = 0; e < 4; ++e) {
                            const int col = column + (e & 1), row = e < 2 ? row_lo : row_hi;
                            const int cdoc = (e & 1) ? cd.y : cd.x;
                            const bool visible = (!CAUSAL || %3$s) && (!DOCUMENT_MASK || cdoc == (e < 2 ? doc_lo : doc_hi));
                            if (!visible) s[j][e] = negative_infinity();
                        }
                    }
                }

                """.formatted(rowsAreKeys ? "keys" : "queries", rowsAreKeys ? "queries" : "keys",
                rowsAreKeys ? "row <= col" : "col <= row");
    }

    /**
     * The backward kernels' reduction of the document ids of every 64-row tile of the block's sequence to a range
     * ({@code tile_doc_min}, {@code tile_doc_max}), {@code tiles} tiles of {@code tileRows} rows. Every block does it
     * before its first copy, so its latency is paid once per block: each warp loads the ids of up to 16 tiles before
     * it reduces any (one round trip to L2 instead of one per tile; taken tile by tile, they cost Llama-3.2-1B's
     * masked dq kernel 12% at 8,192 tokens), and each tile's range is one {@code redux.sync} per bound.
     */
    static String documentRanges(String tiles, String tileRows) {
        return """
                if (DOCUMENT_MASK) {
                    // The range of document ids in every 64-row tile of this sequence.
                    constexpr int WARPS = THREADS / 32, ROUND = 16;
                    for (int t0 = threadIdx.x / 32; t0 < %1$s; t0 += ROUND * WARPS) {
                        int lo[ROUND], hi[ROUND];
                        #pragma unroll
                        for (int i = 0; i < ROUND; ++i) {
                            const int t = min(t0 + i * WARPS, %1$s - 1);
                            const int d0 = docs[first_token + t * %2$s + lane], d1 = docs[first_token + t * %2$s + 32 + lane];
                            lo[i] = min(d0, d1);
                            hi[i] = max(d0, d1);
                        }
                        #pragma unroll
                        for (int i = 0; i < ROUND; ++i) {
                            const int t = t0 + i * WARPS;
                            const int tile_lo = warp_min(lo[i]), tile_hi = warp_max(hi[i]);
                            if (lane == 0 && t < %1$s) {
                                tile_doc_min[t] = tile_lo;
                                tile_doc_max[t] = tile_hi;
                            }
                        }
                    }
                }
                """.formatted(tiles, tileRows);
    }

    /** {@code warp_min(v)}, {@code warp_max(v)}: the least and greatest int of a whole warp, by {@code redux.sync}. */
    static final String WARP_MIN_MAX = """
            __device__ __forceinline__ int warp_min(int v) {
                int r;
                asm("redux.sync.min.s32 %0, %1, 0xffffffff;" : "=r"(r) : "r"(v));
                return r;
            }

            __device__ __forceinline__ int warp_max(int v) {
                int r;
                asm("redux.sync.max.s32 %0, %1, 0xffffffff;" : "=r"(r) : "r"(v));
                return r;
            }
            """;

    /** A BF16 tensor map over [tokens, heads·headDim] (kv: kvHeads·headDim), boxes of {@code rows} × 64 columns. */
    static KernelParam tensorMap(String name, AttentionShape shape, int rows, boolean kv) {
        long columns = (long) (kv ? shape.kvHeads() : shape.heads()) * shape.headDim();
        return KernelParam.tensorMapIn(name, DType.BF16,
                new TensorMapView(shape.tokens(), columns, rows, PANEL_COLUMNS, TensorMapView.Swizzle.B128));
    }

    static String outputList(int registers) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < registers; i++) {
            sb.append(i == 0 ? "" : ", ").append('%').append(i);
        }
        return sb.toString();
    }

    static String accumulators(int registers) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < registers; i++) {
            sb.append(i == 0 ? "" : ", ").append("\"+f\"(d[").append(i / 4).append("][").append(i % 4).append("])");
            if (i % 8 == 7 && i + 1 < registers) {
                sb.append("\n                                   ");
            }
        }
        return sb.toString();
    }
}
