package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.HopperPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;
import java.util.Objects;

/**
 * Attention backward for queries on Hopper (sm_90a): the same inputs, outputs and numbers as
 * {@link FlashAttentionBackwardQuery} ({@code dq = Σ ds·k} with {@code ds = p∘(dout·vᵀ − delta)·scale} over the
 * keys each query sees), on {@code wgmma} with q, dout, k and v brought by TMA.
 *
 * <p>One block of three warpgroups per ({@value #BLOCK_M} queries, head, sequence), the last query tiles (the
 * longest) launched first. The producer warpgroup gives its registers back; one thread copies q and dout once, then k
 * and v of every key tile of {@value #BLOCK_N} from the first to the diagonal into a ring of {@code stages}
 * stages. Each consumer warpgroup owns 64 queries, their lse, delta and dq (FP32) in registers: {@code s = q·kᵀ}
 * and {@code dp = dout·vᵀ} by {@code wgmma m64n64k16} from shared memory, {@code p = exp2(s·scale·log2e −
 * lse·log2e)}, {@code ds = p∘(dp − delta)·scale} rounded to BF16 in registers, then {@code dq += ds·k} by
 * {@code wgmma m64n<headDim>k16} with k read MN-major.
 *
 * <p>Each dq row is written once by one block, the key tiles summed in a fixed order: deterministic, no
 * atomics. Causal: the two key tiles crossing the diagonal are masked; under a document mask key tiles are
 * skipped or masked by document-id ranges per 64-row tile, as in {@link FlashAttentionBackwardKeyValueHopper}.
 * A query tile half outside the sequence computes rows it does not store (their lse and delta read the last
 * row's), and key tiles past the sequence are not visited.
 *
 * <p>Parameters: {@code q, k, v, dout} as tensor maps over bf16[tokens, heads·headDim] (k, v: kvHeads·headDim),
 * {@code lse, delta, [document_ids], dq} as {@link FlashAttentionBackwardQuery}'s.
 */
public record FlashAttentionBackwardQueryHopper(AttentionShape shape, int stages) implements KernelSpec {
    static final int BLOCK_M = 128, BLOCK_N = 64;
    static final int PANEL_COLUMNS = HopperAttentionSource.PANEL_COLUMNS;
    static final int THREADS = HopperAttentionSource.THREADS;
    /** As the forward's; a consumer holds at most 64 + 2 × 32 accumulators and 16 fragments. */
    static final int PRODUCER_REGISTERS = 40, CONSUMER_REGISTERS = 232;
    static final int SHARED_LIMIT = HopperAttentionSource.SHARED_LIMIT;
    static final int MAX_STAGES = 4;

    public FlashAttentionBackwardQueryHopper {
        Objects.requireNonNull(shape, "shape");
        if (stages < 2 || sharedBytes(shape, stages) > SHARED_LIMIT) {
            throw new IllegalArgumentException("FlashAttentionBackwardQueryHopper: q, dout and " + stages + " stages of "
                    + BLOCK_N + " keys × " + shape.headDim() + " need " + sharedBytes(shape, stages)
                    + " bytes of shared memory, more than " + SHARED_LIMIT);
        }
    }

    /** As many stages as fit, at most {@value #MAX_STAGES}. */
    public static FlashAttentionBackwardQueryHopper of(AttentionShape shape) {
        return new FlashAttentionBackwardQueryHopper(shape,
                HopperAttentionSource.maxStages(MAX_STAGES, 1, stages -> sharedBytes(shape, stages) <= SHARED_LIMIT));
    }

    /** Whether this kernel runs {@code shape}: every shape whose q, dout and two stages fit. */
    public static boolean supports(AttentionShape shape) {
        return sharedBytes(shape, 2) <= SHARED_LIMIT;
    }

    /**
     * 1 KiB to align the swizzled tiles, q and dout, per stage k and v, 3 + 2·stages mbarriers, a flag (8 bytes),
     * per-tile document ranges (64-row tiles).
     */
    static int sharedBytes(AttentionShape shape, int stages) {
        int rowBytes = shape.headDim() * 2;
        int documentRanges = shape.documentMask() ? 2 * 4 * (shape.seq() / BLOCK_N) : 0;
        return 1024 + 2 * BLOCK_M * rowBytes + stages * 2 * BLOCK_N * rowBytes + 8 * (3 + 2 * stages) + 8 + documentRanges;
    }

    @Override
    public String kernelName() {
        return "flash_attention_backward_dq_wgmma_" + shape.suffix() + "_s" + stages;
    }

    public List<KernelParam> params() {
        return AttentionParams.backward(shape, HopperAttentionSource.tensorMap("q", shape, BLOCK_M, false),
                HopperAttentionSource.tensorMap("k", shape, BLOCK_N, true), HopperAttentionSource.tensorMap("v", shape, BLOCK_N, true),
                HopperAttentionSource.tensorMap("dout", shape, BLOCK_M, false), KernelParam.out("dq", DType.BF16));
    }

    @Override
    public CudaKernel emit() {
        int sharedBytes = sharedBytes(shape, stages);
        int queryTiles = Math.ceilDiv(shape.seq(), BLOCK_M);
        String description = """
                %s
                Causal flash attention backward for dq on Hopper (wgmma + TMA, FP32 accumulation), %s.
                q, dout, dq: bf16[%d tokens, %d heads × %d]; k, v: bf16[%d tokens, %d kv heads × %d];
                lse, delta: f32[%d, %d, %d]. Tiles: %d queries (2 consumer warpgroups of 64) × %d keys per step; %d stages.
                Grid %d blocks (query tile, head, sequence), last query tiles first; %d bytes of dynamic shared memory.
                Oracle: dev.octet.cpu.ops.Attention.""".formatted(
                kernelName(), shape.documentMask() ? "document-masked" : "no document mask",
                shape.tokens(), shape.heads(), shape.headDim(), shape.tokens(), shape.kvHeads(), shape.headDim(),
                shape.batch(), shape.heads(), shape.seq(), BLOCK_M, BLOCK_N, stages,
                queryTiles * shape.heads() * shape.batch(), sharedBytes);
        String constants = shape.constants() + shape.scaleConstant() + """
                constexpr int BATCH = %d;
                constexpr int BLOCK_M = %d, BLOCK_N = %d, STAGES = %d, THREADS = %d;
                constexpr int Q_TILES = (SEQ + BLOCK_M - 1) / BLOCK_M, K_TILES = SEQ / BLOCK_N;
                constexpr int PANEL_COLUMNS = %d, PANELS = HEAD_DIM / PANEL_COLUMNS;  // 128-byte swizzled panels of a tile
                constexpr int Q_PANEL_BYTES = BLOCK_M * 128, KV_PANEL_BYTES = BLOCK_N * 128;
                constexpr int Q_BYTES = PANELS * Q_PANEL_BYTES, KV_BYTES = PANELS * KV_PANEL_BYTES;
                constexpr int S_FRAGS = BLOCK_N / 8, D_FRAGS = HEAD_DIM / 8;  // n8 column groups of the accumulators
                constexpr int S_STEPS = BLOCK_N / 16;  // k16 steps of ds·k
                """.formatted(shape.batch(), BLOCK_M, BLOCK_N, stages, THREADS, PANEL_COLUMNS);
        String body = constants + "\n" + HopperPrelude.source() + "\n"
                + FlashAttentionBackwardKeyValueHopper.DEVICE_FUNCTIONS + scoresWgmma() + gradientWgmma() + consumerFunctions()
                + KERNEL.replace("$NAME", kernelName())
                        .replace("    $DOCUMENT_RANGES\n", HopperAttentionSource.documentRanges("K_TILES", "BLOCK_N").indent(4))
                        .replace("$SIGNATURE", CudaKernel.signature(params()))
                        .replace("$DOCS", shape.documentMask() ? "document_ids" : "nullptr")
                        .replace("$PRODUCER_REGISTERS", HopperPrelude.setMaxRegisters(false, PRODUCER_REGISTERS))
                        .replace("$CONSUMER_REGISTERS", HopperPrelude.setMaxRegisters(true, CONSUMER_REGISTERS));
        int units = queryTiles * shape.heads() * shape.batch();
        LaunchGeometry launch = LaunchGeometry.linear(units, THREADS, sharedBytes);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    /** {@code wgmma_scores(d, desc_a, desc_b, accumulate)}: d (64 × BLOCK_N) (+)= a·bᵀ over 16 of headDim. */
    private static String scoresWgmma() {
        return HopperAttentionSource.kMajorWgmma("wgmma_scores", BLOCK_N, "S_FRAGS", """
                // s or dp (64 queries x BLOCK_N keys, FP32) = or += q·kᵀ or dout·vᵀ over 16 of head_dim; both operands
                // from shared memory, K-major.
                """);
    }

    /** {@code wgmma_query_gradient(d, a, desc_k)}: d (64 × headDim) += a·k over 16 keys, a from registers. */
    private String gradientWgmma() {
        return HopperAttentionSource.mnMajorWgmma("wgmma_query_gradient", shape.headDim(), "D_FRAGS", """
                // dq (64 queries x HEAD_DIM, FP32) += ds·k over 16 keys: ds as BF16 pairs in registers, k from shared
                // memory read MN-major.
                """);
    }

    /**
     * A consumer thread holds, per warp of 16 queries, queries g and g + 8 (g = lane / 4) and, in every n8 column
     * group j, columns 8j + c and 8j + c + 1 (c = 2·(lane % 4)): keys of s and dp, head-dim columns of dq.
     */
    private static String consumerFunctions() {
        return HopperAttentionSource.issueKMajor("issue_scores", "wgmma_scores", "S_FRAGS", "Q_PANEL_BYTES", "KV_PANEL_BYTES", """
                        // Issues d = a·bᵀ for one key tile (HEAD_DIM / 16 wgmmas) as one commit group: a is this warpgroup's
                        // 64 rows of q or dout, b the stage's k or v.
                        """)
                + HopperAttentionSource.issueMnMajor("issue_query_gradient", "wgmma_query_gradient", "D_FRAGS", "S_STEPS",
                        "KV_PANEL_BYTES", """
                        // Issues dq += ds·k for one key tile (BLOCK_N / 16 wgmmas) as one commit group.
                        """)
                + HopperAttentionSource.backwardMaskScores(false) + HopperAttentionSource.WARP_MIN_MAX + PACK_SCORE_GRADIENTS;
    }

    private static final String PACK_SCORE_GRADIENTS = """
            // s to ds in place: p∘(dp − delta)·scale with p = exp2(s·scale·log2e − lse·log2e) (lse in base 2 here). In
            // FP32 until the previous tile's dq product, which reads the BF16 fragments, is done.
            __device__ __forceinline__ void score_gradients(float (&s)[S_FRAGS][4], const float (&dp)[S_FRAGS][4],
                                                            float lse_lo, float lse_hi, float delta_lo, float delta_hi) {
                #pragma unroll
                for (int j = 0; j < S_FRAGS; ++j) {
                    s[j][0] = exp2_ftz(fmaf(s[j][0], SCALE_LOG2E, -lse_lo)) * (dp[j][0] - delta_lo) * SCALE;
                    s[j][1] = exp2_ftz(fmaf(s[j][1], SCALE_LOG2E, -lse_lo)) * (dp[j][1] - delta_lo) * SCALE;
                    s[j][2] = exp2_ftz(fmaf(s[j][2], SCALE_LOG2E, -lse_hi)) * (dp[j][2] - delta_hi) * SCALE;
                    s[j][3] = exp2_ftz(fmaf(s[j][3], SCALE_LOG2E, -lse_hi)) * (dp[j][3] - delta_hi) * SCALE;
                }
            }

            """;

    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(THREADS, 1) $NAME$SIGNATURE {
                extern __shared__ __align__(1024) unsigned char smem_raw[];
                // The 128-byte swizzle repeats every 1024 bytes: tiles start on such a boundary.
                unsigned char* smem = align_shared_1024(smem_raw);
                unsigned char* q_smem = smem;
                unsigned char* dout_smem = q_smem + Q_BYTES;
                unsigned char* k_ring_smem = dout_smem + Q_BYTES;
                unsigned char* v_ring_smem = k_ring_smem + STAGES * KV_BYTES;
                unsigned long long* q_full = (unsigned long long*) (v_ring_smem + STAGES * KV_BYTES);
                unsigned long long* full = q_full + 1;
                unsigned long long* empty = full + STAGES;
                unsigned long long* consumers_done = empty + STAGES;
                int* failed = (int*) (consumers_done + 1);  // a consumer's wait timed out
                int* tile_doc_min = failed + 2;  // [K_TILES], document masks only
                int* tile_doc_max = tile_doc_min + K_TILES;
                const int* docs = $DOCS;
                // The last query tiles see the most keys: blocks of every (head, sequence) of the last query tile come
                // first, then of the one before, ...
                const int q_tile = Q_TILES - 1 - blockIdx.x / (HEADS * BATCH);
                const int head = blockIdx.x % HEADS, batch = (blockIdx.x / HEADS) % BATCH, kv_head = head / GROUP;
                const long first_token = (long) batch * SEQ;
                const int warpgroup = threadIdx.x / 128, lane = threadIdx.x % 32;
                // Key tiles up to the diagonal and inside the sequence; the last two cross the diagonal.
                const int last_key_tile = min(2 * q_tile + 1, K_TILES - 1), first_masked_tile = 2 * q_tile;

                if (threadIdx.x == 0) {
                    mbar_init(q_full, 1);
                    for (int s = 0; s < STAGES; ++s) {
                        mbar_init(&full[s], 1);
                        mbar_init(&empty[s], 2 * 4);  // one arrival per consumer warp
                    }
                    mbar_init(consumers_done, 2 * 128);
                    *failed = 0;
                    mbar_init_fence();
                }
                $DOCUMENT_RANGES
                __syncthreads();
                // The query tile's range: its one or two 64-row tiles inside the sequence.
                const int query_doc_min = DOCUMENT_MASK ? min(tile_doc_min[first_masked_tile], tile_doc_min[last_key_tile]) : 0;
                const int query_doc_max = DOCUMENT_MASK ? max(tile_doc_max[first_masked_tile], tile_doc_max[last_key_tile]) : 0;
                auto tile_visible = [&](int t) {
                    return !DOCUMENT_MASK || (tile_doc_max[t] >= query_doc_min && tile_doc_min[t] <= query_doc_max);
                };

                if (warpgroup == 0) {
                    $PRODUCER_REGISTERS
                    if (threadIdx.x == 0) {
                        prefetch_tensor_map(&q);
                        prefetch_tensor_map(&k);
                        prefetch_tensor_map(&v);
                        prefetch_tensor_map(&dout);
                        const int first_row = batch * SEQ;
                        mbar_arrive_expect_tx(q_full, 2 * Q_BYTES);
                        #pragma unroll
                        for (int p = 0; p < PANELS; ++p) {
                            tma_load_2d(q_smem + p * Q_PANEL_BYTES, &q, head * HEAD_DIM + p * PANEL_COLUMNS,
                                        first_row + q_tile * BLOCK_M, q_full);
                            tma_load_2d(dout_smem + p * Q_PANEL_BYTES, &dout, head * HEAD_DIM + p * PANEL_COLUMNS,
                                        first_row + q_tile * BLOCK_M, q_full);
                        }
                        int it = 0;
                        for (int kt = 0; kt <= last_key_tile; ++kt) {
                            if (!tile_visible(kt)) continue;
                            const int stage = it % STAGES;
                            mbar_wait(&empty[stage], ((it / STAGES) & 1) ^ 1);
                            ++it;
                            mbar_arrive_expect_tx(&full[stage], 2 * KV_BYTES);
                            #pragma unroll
                            for (int p = 0; p < PANELS; ++p) {
                                tma_load_2d(k_ring_smem + stage * KV_BYTES + p * KV_PANEL_BYTES, &k,
                                            kv_head * HEAD_DIM + p * PANEL_COLUMNS, first_row + kt * BLOCK_N, &full[stage]);
                                tma_load_2d(v_ring_smem + stage * KV_BYTES + p * KV_PANEL_BYTES, &v,
                                            kv_head * HEAD_DIM + p * PANEL_COLUMNS, first_row + kt * BLOCK_N, &full[stage]);
                            }
                        }
                        // Fail the launch for the consumers if one of their waits timed out (or if they never finish).
                        mbar_wait(consumers_done, 0);
                        if (*(volatile int*) failed) __trap();
                    }
                } else {
                    $CONSUMER_REGISTERS
                    const int consumer = warpgroup - 1, warp = (threadIdx.x / 32) % 4, g = lane / 4, c = 2 * (lane % 4);
                    // This warpgroup's 64 rows of q and dout.
                    const unsigned q_rows = smem_u32(q_smem) + consumer * 64 * 128, dout_rows = smem_u32(dout_smem) + consumer * 64 * 128;
                    const unsigned k_ring = smem_u32(k_ring_smem), v_ring = smem_u32(v_ring_smem);
                    // This thread's two queries (positions in the sequence); rows past the sequence are never stored.
                    const int row_lo = q_tile * BLOCK_M + consumer * 64 + warp * 16 + g, row_hi = row_lo + 8;
                    const int* sequence_docs = DOCUMENT_MASK ? docs + first_token : nullptr;
                    const long head_rows = ((long) batch * HEADS + head) * SEQ;
                    const float lse_lo = lse[head_rows + min(row_lo, SEQ - 1)] * LOG2E;
                    const float lse_hi = lse[head_rows + min(row_hi, SEQ - 1)] * LOG2E;
                    const float delta_lo = delta[head_rows + min(row_lo, SEQ - 1)];
                    const float delta_hi = delta[head_rows + min(row_hi, SEQ - 1)];
                    // A lost copy must fail the launch, not hang it: see mbar_wait_or_late.
                    bool late = false;
                    float dq_acc[D_FRAGS][4];
                    #pragma unroll
                    for (int j = 0; j < D_FRAGS; ++j) dq_acc[j][0] = dq_acc[j][1] = dq_acc[j][2] = dq_acc[j][3] = 0.0f;
                    float s[S_FRAGS][4], dp[S_FRAGS][4];
                    mbar_wait_or_late(q_full, 0, late);
                    // Tile kt's dq product is issued after tile kn's scores, the next visible tile's: the mask and ds of
                    // kn run while the tensor cores finish dp and dq, and no wgmma group outlives its loop turn.
                    auto next_visible = [&](int t) {
                        while (t <= last_key_tile && !tile_visible(t)) ++t;
                        return t;
                    };
                    unsigned ds_frag[S_STEPS][4];
                    int it = 0, kt = next_visible(0), stage = 0;
                    int after = last_key_tile + 1;  // the visible tile after kt
                    auto tile_mixed = [&](int t) {
                        return DOCUMENT_MASK && !(query_doc_min == query_doc_max && tile_doc_min[t] == query_doc_min
                                                  && tile_doc_max[t] == query_doc_max);
                    };
                    // At head dim 128, whether a tile needs a document mask and the visible tile after it are read
                    // from shared memory while the tensor cores compute its scores (dq 4-7% faster on an H100); at 64
                    // that was 12% slower with one document, so there they are read when needed.
                    constexpr bool EARLY_LOOKUPS = HEAD_DIM == 128;
                    // Waits for tile t's stage, issues its s and dp (two groups) and, when issue_dq, tile kt's dq after
                    // them; waits for s, masks it, waits for dp and turns s into ds.
                    auto scores = [&](int t, int t_stage, unsigned t_phase, bool issue_dq) {
                        const unsigned k_tile = k_ring + t_stage * KV_BYTES, v_tile = v_ring + t_stage * KV_BYTES;
                        mbar_wait_or_late(&full[t_stage], t_phase, late);
                        fence_fragments(s);
                        fence_fragments(dp);
                        fence_fragments(dq_acc);
                        wgmma_fence();
                        issue_scores(s, q_rows, k_tile);
                        issue_scores(dp, dout_rows, v_tile);
                        if (issue_dq) issue_query_gradient(dq_acc, ds_frag, k_ring + stage * KV_BYTES);
                        bool mixed = false;
                        if (EARLY_LOOKUPS) {
                            mixed = tile_mixed(t);
                            after = next_visible(t + 1);
                        }
                        if (issue_dq) {
                            wgmma_wait<2>();  // s is in; dp and dq may still run
                        } else {
                            wgmma_wait<1>();
                        }
                        fence_fragments(s);
                        if (t >= first_masked_tile) {
                            mask_scores<true>(s, t * BLOCK_N, row_lo, row_hi, sequence_docs);
                        } else if (EARLY_LOOKUPS ? mixed : tile_mixed(t)) {
                            mask_scores<false>(s, t * BLOCK_N, row_lo, row_hi, sequence_docs);
                        }
                        if (issue_dq) wgmma_wait<1>(); else wgmma_wait<0>();  // dp is in
                        fence_fragments(dp);
                        score_gradients(s, dp, lse_lo, lse_hi, delta_lo, delta_hi);
                    };
                    if (kt <= last_key_tile) {
                        stage = it % STAGES;
                        scores(kt, stage, (it / STAGES) & 1, false);
                        ++it;
                        pack_fragments(ds_frag, s);
                    }
                    while (kt <= last_key_tile) {
                        if (!EARLY_LOOKUPS) after = next_visible(kt + 1);
                        const int kn = after;
                        if (kn <= last_key_tile) {
                            const int next_stage = it % STAGES;
                            scores(kn, next_stage, (it / STAGES) & 1, true);
                            ++it;
                            wgmma_wait<0>();  // tile kt's dq: its stage and ds fragments are free
                            fence_fragments(dq_acc);
                            if (lane == 0) mbar_arrive(&empty[stage]);
                            pack_fragments(ds_frag, s);
                            stage = next_stage;
                        } else {
                            fence_fragments(dq_acc);
                            wgmma_fence();
                            issue_query_gradient(dq_acc, ds_frag, k_ring + stage * KV_BYTES);
                            wgmma_wait<0>();
                            fence_fragments(dq_acc);
                            if (lane == 0) mbar_arrive(&empty[stage]);
                        }
                        kt = kn;
                    }
                    bf16_t* dq_lo = dq + (first_token + row_lo) * Q_STRIDE + head * HEAD_DIM;
                    bf16_t* dq_hi = dq + (first_token + row_hi) * Q_STRIDE + head * HEAD_DIM;
                    if (row_lo < SEQ) {
                        #pragma unroll
                        for (int j = 0; j < D_FRAGS; ++j)
                            *reinterpret_cast<unsigned*>(dq_lo + 8 * j + c) = pack_bf16x2(dq_acc[j][0], dq_acc[j][1]);
                    }
                    if (row_hi < SEQ) {
                        #pragma unroll
                        for (int j = 0; j < D_FRAGS; ++j)
                            *reinterpret_cast<unsigned*>(dq_hi + 8 * j + c) = pack_bf16x2(dq_acc[j][2], dq_acc[j][3]);
                    }
                    // The producer's thread traps for a late consumer: a trap in this branch costs the wgmmas their
                    // registers (see mbar_wait_or_late).
                    if (late) *failed = 1;
                    mbar_arrive(consumers_done);
                }
            }
            """;
}
