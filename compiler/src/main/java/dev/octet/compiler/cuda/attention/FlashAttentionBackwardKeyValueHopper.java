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
 * Attention backward for keys and values on Hopper (sm_90a): the same inputs, outputs and numbers as
 * {@link FlashAttentionBackwardKeyValue} ({@code dv = Σ pᵀ·dout}, {@code dk = Σ dsᵀ·q·scale} over every query
 * of the kv head's group that sees the key), on {@code wgmma} with q and dout brought by TMA.
 *
 * <p>One block of three warpgroups per ({@value #BLOCK_N} keys, kv head, sequence), the longest (first key tiles)
 * launched first. The producer warpgroup gives its registers back ({@code setmaxnreg}); one thread copies k and v
 * once, then, for every head of the group and every query tile of {@value #BLOCK_M} rows from the diagonal to the
 * end of the sequence, q, dout (64-column panels, 128-byte swizzle), lse and delta into a ring of {@code stages}
 * stages (one full and one empty mbarrier each). The two consumer warpgroups take the query tiles in turn, each
 * keeping its own partial dk, dv of all 64 keys in FP32 registers. Keys are the rows of every product, so nothing
 * is staged through shared memory: {@code sᵀ = k·qᵀ} and {@code dpᵀ = v·doutᵀ} by {@code wgmma m64n64k16} from
 * shared memory (both K-major), {@code pᵀ = exp2(sᵀ·scale·log2e − lse·log2e)},
 * {@code dsᵀ = pᵀ∘(dpᵀ − delta)·scale}, both rounded to BF16 in registers, then {@code dv += pᵀ·dout} and
 * {@code dk += dsᵀ·q} by {@code wgmma m64n<headDim>k16} with A from registers and dout, q read MN-major. At the
 * end the second consumer hands its partial sums to the first through the idle ring, which adds them and stores.
 * Where registers allow ({@link #pipelined}: head dim 64), a consumer issues its next query tile's {@code sᵀ} and
 * {@code dpᵀ} before this tile's products, so that the next tile's mask and softmax run under them.
 *
 * <p>A block writes every row of dk, dv it owns once, its partial sums added in a fixed order: deterministic
 * without atomics. 64 keys per block rather than 128 give twice the blocks, so that causal attention's unequal
 * blocks (the first key tile sees every query, the last only its own) even out over the SMs even when there are
 * few kv heads. Causal: query tiles start at the key tile's, the one on the diagonal masked. Under a document mask
 * each block reduces the document ids of every 64-row tile of its sequence to a range: a query tile whose range
 * misses the key tile's is skipped, one equal to it and holding a single document is not masked, others are
 * masked query by query.
 *
 * <p>Parameters: {@code q, k, v, dout} as tensor maps over bf16[tokens, heads·headDim] (k, v: kvHeads·headDim),
 * {@code lse, delta, [document_ids], dk, dv} as {@link FlashAttentionBackwardKeyValue}'s.
 */
public record FlashAttentionBackwardKeyValueHopper(AttentionShape shape, int stages) implements KernelSpec {
    static final int BLOCK_N = 64, BLOCK_M = 64;
    static final int PANEL_COLUMNS = HopperAttentionSource.PANEL_COLUMNS;
    static final int THREADS = HopperAttentionSource.THREADS;
    /**
     * 40 × 128 + 2 × 232 × 128 (or 24 × 128 + 2 × 240 × 128) = 64,512, what a block of 384 threads capped at 168 registers
     * starts with. At headDim 128 a consumer holds 128 accumulators of dk, dv and 64 of sᵀ, dpᵀ: it fits only
     * because no gradient product runs while sᵀ or dpᵀ is live (see the loop), and without a document mask NVRTC
     * 12.6 still spills 36 bytes at 232 (multi-head, the causal mask in the loop); there the producer, whose tile
     * loop then has no document ranges to test, fits in 24 and gives the consumers 240. With a document mask the
     * producer spills at 24.
     */
    int producerRegisters() {
        return shape.documentMask() ? 40 : 24;
    }

    int consumerRegisters() {
        return shape.documentMask() ? 232 : 240;
    }

    static final int SHARED_LIMIT = HopperAttentionSource.SHARED_LIMIT;

    /**
     * Whether the consumers overlap a query tile's mask and softmax with the previous tile's products: where their
     * registers hold a second tile's sᵀ and dpᵀ beside dk, dv (head dim 64: 64 accumulators, not 128) and the ring
     * has the two stages a consumer then holds for each of the two consumers.
     */
    boolean pipelined() {
        return shape.headDim() <= 64 && stages >= 4;
    }
    /**
     * The consumers take stages in turn, each looking ahead by half the ring. The count is even, so that a stage
     * always serves the same consumer: with an odd count a consumer could wait on a stage whose previous fill,
     * for the other consumer, has not landed, two phases behind, and its parity wait would pass at once.
     */
    static final int MAX_STAGES = 6;

    public FlashAttentionBackwardKeyValueHopper {
        Objects.requireNonNull(shape, "shape");
        if (stages < 2 || stages % 2 != 0 || sharedBytes(shape, stages) > SHARED_LIMIT) {
            throw new IllegalArgumentException("FlashAttentionBackwardKeyValueHopper: k, v and " + stages + " stages (an even count) of "
                    + BLOCK_M + " queries × " + shape.headDim() + " need " + sharedBytes(shape, stages)
                    + " bytes of shared memory, more than " + SHARED_LIMIT);
        }
    }

    /** As many stages as fit, an even count, at most {@value #MAX_STAGES}. */
    public static FlashAttentionBackwardKeyValueHopper of(AttentionShape shape) {
        return new FlashAttentionBackwardKeyValueHopper(shape,
                HopperAttentionSource.maxStages(MAX_STAGES, 2, stages -> sharedBytes(shape, stages) <= SHARED_LIMIT));
    }

    /** Whether this kernel runs {@code shape}: every shape whose k, v and two stages fit. */
    public static boolean supports(AttentionShape shape) {
        return sharedBytes(shape, 2) <= SHARED_LIMIT;
    }

    /** 64-row tiles of a sequence: the query tiles, and the granularity of the document ranges. */
    static int queryTiles(AttentionShape shape) {
        return shape.seq() / BLOCK_M;
    }

    /**
     * 1 KiB to align the swizzled tiles, k and v, per stage q and dout (at the end, the second consumer's partial
     * dk and dv: 64 × headDim × 8 bytes, what two stages hold), then per stage lse and delta, 2 + 2·stages
     * mbarriers, a flag (8 bytes), per-tile document ranges.
     */
    static int sharedBytes(AttentionShape shape, int stages) {
        int rowBytes = shape.headDim() * 2;
        int documentRanges = shape.documentMask() ? 2 * 4 * queryTiles(shape) : 0;
        return 1024 + 2 * BLOCK_N * rowBytes + stages * (2 * BLOCK_M * rowBytes + 2 * BLOCK_M * 4)
                + 8 * (2 + 2 * stages) + 8 + documentRanges;
    }

    @Override
    public String kernelName() {
        return "flash_attention_backward_dkdv_wgmma_" + shape.suffix() + "_s" + stages;
    }

    public List<KernelParam> params() {
        return AttentionParams.backward(shape, HopperAttentionSource.tensorMap("q", shape, BLOCK_M, false),
                HopperAttentionSource.tensorMap("k", shape, BLOCK_N, true), HopperAttentionSource.tensorMap("v", shape, BLOCK_N, true),
                HopperAttentionSource.tensorMap("dout", shape, BLOCK_M, false), KernelParam.out("dk", DType.BF16), KernelParam.out("dv", DType.BF16));
    }

    @Override
    public CudaKernel emit() {
        int sharedBytes = sharedBytes(shape, stages);
        int keyTiles = shape.seq() / BLOCK_N;
        int units = keyTiles * shape.kvHeads() * shape.batch();
        String description = """
                %s
                Causal flash attention backward for dk and dv on Hopper (wgmma + TMA, FP32 accumulation), %s.
                q, dout: bf16[%d tokens, %d heads × %d]; k, v, dk, dv: bf16[%d tokens, %d kv heads × %d];
                lse, delta: f32[%d, %d, %d]. Tiles: %d keys × %d queries per step, 2 consumer warpgroups taking steps in turn; %d stages.
                Grid %d blocks (key tile, kv head, sequence), first key tiles first; %d bytes of dynamic shared memory.
                Oracle: dev.octet.cpu.ops.Attention.""".formatted(
                kernelName(), shape.documentMask() ? "document-masked" : "no document mask",
                shape.tokens(), shape.heads(), shape.headDim(), shape.tokens(), shape.kvHeads(), shape.headDim(),
                shape.batch(), shape.heads(), shape.seq(), BLOCK_N, BLOCK_M, stages,
                units, sharedBytes);
        String constants = shape.constants() + shape.scaleConstant() + """
                constexpr int BATCH = %d;
                constexpr int BLOCK_N = %d, BLOCK_M = %d, STAGES = %d, THREADS = %d;
                constexpr int Q_TILES = SEQ / BLOCK_M;  // 64-row tiles of the sequence: query and key tiles
                constexpr int PANEL_COLUMNS = %d, PANELS = HEAD_DIM / PANEL_COLUMNS;  // 128-byte swizzled panels of a tile
                constexpr int KV_PANEL_BYTES = BLOCK_N * 128, Q_PANEL_BYTES = BLOCK_M * 128;
                constexpr int KV_BYTES = PANELS * KV_PANEL_BYTES, Q_BYTES = PANELS * Q_PANEL_BYTES;
                constexpr int ROW_BYTES = BLOCK_M * 4;  // lse or delta of one query tile
                constexpr int STAGE_BYTES = 2 * Q_BYTES + 2 * ROW_BYTES;  // what lands on a stage's full barrier
                constexpr int S_FRAGS = BLOCK_M / 8, D_FRAGS = HEAD_DIM / 8;  // n8 column groups of the accumulators
                constexpr int P_STEPS = BLOCK_M / 16;  // k16 steps of pᵀ·dout and dsᵀ·q
                """.formatted(shape.batch(), BLOCK_N, BLOCK_M, stages, THREADS, PANEL_COLUMNS);
        String body = constants + "\n" + HopperPrelude.source() + "\n"
                + DEVICE_FUNCTIONS + transposedScoresWgmma() + gradientWgmma() + consumerFunctions()
                + KERNEL.replace("$NAME", kernelName())
                        .replace("    $DOCUMENT_RANGES\n", HopperAttentionSource.documentRanges("Q_TILES", "BLOCK_M").indent(4))
                        .replace("$SIGNATURE", CudaKernel.signature(params()))
                        .replace("$DOCS", shape.documentMask() ? "document_ids" : "nullptr")
                        .replace("$PRODUCER_REGISTERS", HopperPrelude.setMaxRegisters(false, producerRegisters()))
                        .replace("$CONSUMER_REGISTERS", HopperPrelude.setMaxRegisters(true, consumerRegisters()))
                        .replace("        $LOOP\n", pipelined() ? PIPELINED_LOOP : SERIAL_LOOP)
                        .replace("            $MASK_QT\n", MASK_QUERY_TILE.replace("$TILE", "qt").indent(12))
                        .replace("            $MASK_T_QT\n", MASK_QUERY_TILE.replace("$TILE", "t_qt").indent(12))
                        .replace("            $MIXED_QT\n", QUERY_TILE_MIXED.replace("$TILE", "qt").indent(12))
                        .replace("            $MIXED_T_QT\n", QUERY_TILE_MIXED.replace("$TILE", "t_qt").indent(12));
        LaunchGeometry launch = LaunchGeometry.linear(units, THREADS, sharedBytes);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    /** Device functions shared with {@link FlashAttentionBackwardQueryHopper}. */
    static final String DEVICE_FUNCTIONS = HopperAttentionSource.SCALAR_FUNCTIONS + HopperAttentionSource.BULK_LOAD
            + HopperAttentionSource.FENCE_FRAGMENTS + HopperAttentionSource.PACK_FRAGMENTS;

    /** {@code wgmma_transposed(d, desc_a, desc_b, accumulate)}: d (64 × BLOCK_M) (+)= a·bᵀ over 16 of headDim. */
    private static String transposedScoresWgmma() {
        return HopperAttentionSource.kMajorWgmma("wgmma_transposed", BLOCK_M, "S_FRAGS", """
                // sᵀ or dpᵀ (64 keys x BLOCK_M queries, FP32) = or += k·qᵀ or v·doutᵀ over 16 of head_dim; both
                // operands from shared memory, K-major.
                """);
    }

    /** {@code wgmma_gradient(d, a, desc_b)}: d (64 × headDim) += a·b over 16 queries, a from registers. */
    private String gradientWgmma() {
        return HopperAttentionSource.mnMajorWgmma("wgmma_gradient", shape.headDim(), "D_FRAGS", """
                // dv or dk (64 keys x HEAD_DIM, FP32) += pᵀ·dout or dsᵀ·q over 16 queries: pᵀ or dsᵀ as BF16 pairs in
                // registers, dout or q from shared memory read MN-major.
                """);
    }

    /**
     * A consumer thread holds, per warp of 16 keys, keys g and g + 8 (g = lane / 4) and, in every n8 column group
     * j, columns 8j + c and 8j + c + 1 (c = 2·(lane % 4)): queries of sᵀ and dpᵀ, head-dim columns of dk and dv.
     */
    private static String consumerFunctions() {
        return """
                // The 256 consumer threads alone (named barrier 1; __syncthreads is barrier 0).
                __device__ __forceinline__ void consumer_sync() {
                    asm volatile("bar.sync 1, 256;" ::: "memory");
                }

                """ + HopperAttentionSource.issueKMajor("issue_transposed", "wgmma_transposed", "S_FRAGS", "KV_PANEL_BYTES",
                "Q_PANEL_BYTES", """
                        // Issues d = a·bᵀ for one query tile (HEAD_DIM / 16 wgmmas) as one commit group: a is this warpgroup's
                        // 64 rows of k or v, b the stage's q or dout.
                        """)
                + HopperAttentionSource.issueMnMajor("issue_gradient", "wgmma_gradient", "D_FRAGS", "P_STEPS", "Q_PANEL_BYTES", """
                        // Issues d += a·b for one query tile (BLOCK_M / 16 wgmmas) as one commit group: a from registers, b the
                        // stage's dout or q.
                        """)
                + HopperAttentionSource.backwardMaskScores(true) + HopperAttentionSource.WARP_MIN_MAX + PROBABILITIES;
    }

    private static final String PROBABILITIES = """
            // sᵀ to pᵀ in place: exp2(s·scale·log2e − lse·log2e), the query's lse from the stage.
            __device__ __forceinline__ void probabilities(float (&s)[S_FRAGS][4], const float* lse_tile) {
                const int c = 2 * (threadIdx.x % 4);
                #pragma unroll
                for (int j = 0; j < S_FRAGS; ++j) {
                    const float2 l = *reinterpret_cast<const float2*>(lse_tile + 8 * j + c);
                    const float l0 = l.x * LOG2E, l1 = l.y * LOG2E;
                    s[j][0] = exp2_ftz(fmaf(s[j][0], SCALE_LOG2E, -l0));
                    s[j][1] = exp2_ftz(fmaf(s[j][1], SCALE_LOG2E, -l1));
                    s[j][2] = exp2_ftz(fmaf(s[j][2], SCALE_LOG2E, -l0));
                    s[j][3] = exp2_ftz(fmaf(s[j][3], SCALE_LOG2E, -l1));
                }
            }

            // dpᵀ to dsᵀ in place, pᵀ∘(dpᵀ − delta)·scale in FP32 (the pipelined loop packs it once the previous
            // tile's products are done): the same arithmetic as pack_score_gradients.
            __device__ __forceinline__ void score_gradients(float (&dp)[S_FRAGS][4], const float (&p)[S_FRAGS][4],
                                                            const float* delta_tile) {
                const int c = 2 * (threadIdx.x % 4);
                #pragma unroll
                for (int j = 0; j < S_FRAGS; ++j) {
                    const float2 d = *reinterpret_cast<const float2*>(delta_tile + 8 * j + c);
                    dp[j][0] = p[j][0] * (dp[j][0] - d.x) * SCALE;
                    dp[j][1] = p[j][1] * (dp[j][1] - d.y) * SCALE;
                    dp[j][2] = p[j][2] * (dp[j][2] - d.x) * SCALE;
                    dp[j][3] = p[j][3] * (dp[j][3] - d.y) * SCALE;
                }
            }

            // dsᵀ = pᵀ∘(dpᵀ − delta)·scale as BF16 A fragments, the query's delta from the stage.
            __device__ __forceinline__ void pack_score_gradients(unsigned (&a)[P_STEPS][4], const float (&p)[S_FRAGS][4],
                                                                 const float (&dp)[S_FRAGS][4], const float* delta_tile) {
                const int c = 2 * (threadIdx.x % 4);
                #pragma unroll
                for (int kk = 0; kk < P_STEPS; ++kk) {
                    float ds[2][4];
                    #pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        const int j = 2 * kk + h;
                        const float2 d = *reinterpret_cast<const float2*>(delta_tile + 8 * j + c);
                        ds[h][0] = p[j][0] * (dp[j][0] - d.x) * SCALE;
                        ds[h][1] = p[j][1] * (dp[j][1] - d.y) * SCALE;
                        ds[h][2] = p[j][2] * (dp[j][2] - d.x) * SCALE;
                        ds[h][3] = p[j][3] * (dp[j][3] - d.y) * SCALE;
                    }
                    a[kk][0] = pack_bf16x2(ds[0][0], ds[0][1]);
                    a[kk][1] = pack_bf16x2(ds[0][2], ds[0][3]);
                    a[kk][2] = pack_bf16x2(ds[1][0], ds[1][1]);
                    a[kk][3] = pack_bf16x2(ds[1][2], ds[1][3]);
                }
            }

            """;

    /**
     * Whether sᵀ of the query tile {@code $TILE} needs a mask beyond the causal one of the diagonal tile: its documents
     * may differ from the block's keys'. Read from shared memory while the tensor cores compute the tile's scores, so
     * that the read's latency is not between them and the softmax.
     */
    private static final String QUERY_TILE_MIXED = """
            const bool mixed = DOCUMENT_MASK && !(key_doc_min == key_doc_max && tile_doc_min[$TILE] == key_doc_min
                                                  && tile_doc_max[$TILE] == key_doc_max);
            """;

    /** Masks sᵀ of the query tile {@code $TILE}: the diagonal tile causally, a mixed one by document id. */
    private static final String MASK_QUERY_TILE = """
            if ($TILE == first_query_tile) {
                mask_scores<true>(s, $TILE * BLOCK_M, key_lo, key_hi, sequence_docs);
            } else if (mixed) {
                mask_scores<false>(s, $TILE * BLOCK_M, key_lo, key_hi, sequence_docs);
            }
            """;

    /** One query tile after another: at head dim 128 the consumers' registers hold no more. */
    private static final String SERIAL_LOOP = """
                    // Turn t (this consumer's are consumer, consumer + 2, ...) is stage t % STAGES, phase (t / STAGES) & 1:
                    // STAGES is even, so this consumer's stages are its own.
                    int stage = consumer;
                    unsigned phase = 0;
                    while (head <= last_head) {
                        const unsigned q_tile = q_ring + stage * Q_BYTES, dout_tile = dout_ring + stage * Q_BYTES;
                        mbar_wait_or_late(&full[stage], phase, late);
                        fence_fragments(s);
                        fence_fragments(dp);
                        wgmma_fence();
                        issue_transposed(s, k_rows, q_tile);
                        issue_transposed(dp, v_rows, dout_tile);
                        $MIXED_QT
                        wgmma_wait<1>();  // sᵀ is in; dpᵀ may still run
                        fence_fragments(s);
                        $MASK_QT
                        probabilities(s, lse_ring + stage * BLOCK_M);
                        wgmma_wait<0>();
                        fence_fragments(dp);
                        // Both A operands before either product: while those run, only accumulators and
                        // fragments are live, which keeps headDim 128 within the consumers' registers.
                        unsigned p_frag[P_STEPS][4], ds_frag[P_STEPS][4];
                        // dsᵀ first: dpᵀ dies as it is packed, then pᵀ.
                        pack_score_gradients(ds_frag, s, dp, delta_ring + stage * BLOCK_M);
                        pack_fragments(p_frag, s);
                        fence_fragments(dv_acc);
                        fence_fragments(dk_acc);
                        wgmma_fence();
                        issue_gradient(dv_acc, p_frag, dout_tile);
                        issue_gradient(dk_acc, ds_frag, q_tile);
                        // This consumer's next tile, found while the products run.
                        advance();
                        advance();
                        wgmma_wait<0>();
                        fence_fragments(dv_acc);
                        fence_fragments(dk_acc);
                        if (lane == 0) mbar_arrive(&empty[stage]);
                        stage += 2;
                        if (stage >= STAGES) {
                            stage -= STAGES;
                            phase ^= 1;
                        }
                    }
            """;

    /**
     * The next query tile's scores issued before this one's products ({@link #pipelined}): as the forward overlaps its
     * softmax with the tensor cores, with the same arithmetic in the same order, so the same bits as the serial loop.
     */
    private static final String PIPELINED_LOOP = """
                    // Turn t (this consumer's are consumer, consumer + 2, ...) is stage t % STAGES, phase (t / STAGES) & 1:
                    // STAGES is even, so this consumer's stages are its own. The products of the turn's tile are issued
                    // after the scores of the consumer's next tile, whose mask, pᵀ and dsᵀ then run while the tensor
                    // cores finish them; a consumer holds two stages, so the ring has at least four.
                    unsigned p_frag[P_STEPS][4], ds_frag[P_STEPS][4];
                    // Waits for stage t_stage, issues its sᵀ and dpᵀ (a group each) and, with grads, the products of the
                    // tile in stage g_stage after them; leaves pᵀ in s and dsᵀ in dp, in FP32. While the tensor cores run,
                    // (head, qt) moves on to this consumer's next tile. grads is a constant at each call: a wgmma behind a
                    // branch the compiler cannot resolve is serialised (C7520).
                    auto scores = [&](int t_stage, unsigned t_phase, int t_qt, bool grads, int g_stage) {
                        const unsigned q_tile = q_ring + t_stage * Q_BYTES, dout_tile = dout_ring + t_stage * Q_BYTES;
                        mbar_wait_or_late(&full[t_stage], t_phase, late);
                        fence_fragments(s);
                        fence_fragments(dp);
                        fence_fragments(dv_acc);
                        fence_fragments(dk_acc);
                        wgmma_fence();
                        issue_transposed(s, k_rows, q_tile);
                        issue_transposed(dp, v_rows, dout_tile);
                        if (grads) {
                            issue_gradient(dv_acc, p_frag, dout_ring + g_stage * Q_BYTES);
                            issue_gradient(dk_acc, ds_frag, q_ring + g_stage * Q_BYTES);
                        }
                        $MIXED_T_QT
                        advance();
                        advance();
                        if (grads) {
                            wgmma_wait<3>();  // sᵀ is in; dpᵀ and the products may still run
                        } else {
                            wgmma_wait<1>();
                        }
                        fence_fragments(s);
                        $MASK_T_QT
                        probabilities(s, lse_ring + t_stage * BLOCK_M);
                        if (grads) wgmma_wait<2>(); else wgmma_wait<0>();  // dpᵀ is in
                        fence_fragments(dp);
                        score_gradients(dp, s, delta_ring + t_stage * BLOCK_M);
                    };
                    int stage = consumer;
                    unsigned phase = 0;
                    // Whether the turn has a tile; (head, qt) is always the tile after it, found by scores.
                    bool current = head <= last_head;
                    if (current) {
                        scores(stage, phase, qt, false, 0);
                        pack_fragments(ds_frag, dp);
                        pack_fragments(p_frag, s);
                    }
                    while (current) {
                        int next_stage = stage + 2;
                        unsigned next_phase = phase;
                        if (next_stage >= STAGES) {
                            next_stage -= STAGES;
                            next_phase ^= 1;
                        }
                        const bool next = head <= last_head;
                        if (next) {
                            scores(next_stage, next_phase, qt, true, stage);
                            wgmma_wait<0>();  // the turn's products: its stage and fragments are free
                        } else {
                            fence_fragments(dv_acc);
                            fence_fragments(dk_acc);
                            wgmma_fence();
                            issue_gradient(dv_acc, p_frag, dout_ring + stage * Q_BYTES);
                            issue_gradient(dk_acc, ds_frag, q_ring + stage * Q_BYTES);
                            wgmma_wait<0>();
                        }
                        fence_fragments(dv_acc);
                        fence_fragments(dk_acc);
                        if (lane == 0) mbar_arrive(&empty[stage]);
                        if (next) {
                            pack_fragments(ds_frag, dp);
                            pack_fragments(p_frag, s);
                        }
                        stage = next_stage;
                        phase = next_phase;
                        current = next;
                    }
            """;

    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(THREADS, 1) $NAME$SIGNATURE {
                extern __shared__ __align__(1024) unsigned char smem_raw[];
                // The 128-byte swizzle repeats every 1024 bytes: tiles start on such a boundary.
                unsigned char* smem = align_shared_1024(smem_raw);
                unsigned char* k_smem = smem;
                unsigned char* v_smem = k_smem + KV_BYTES;
                unsigned char* q_ring_smem = v_smem + KV_BYTES;
                unsigned char* dout_ring_smem = q_ring_smem + STAGES * Q_BYTES;
                float* lse_ring = (float*) (dout_ring_smem + STAGES * Q_BYTES);  // [STAGES][BLOCK_M]
                float* delta_ring = lse_ring + STAGES * BLOCK_M;
                unsigned long long* kv_full = (unsigned long long*) (delta_ring + STAGES * BLOCK_M);
                unsigned long long* full = kv_full + 1;
                unsigned long long* empty = full + STAGES;
                unsigned long long* consumers_done = empty + STAGES;
                int* failed = (int*) (consumers_done + 1);  // a consumer's wait timed out
                int* tile_doc_min = failed + 2;  // [Q_TILES], document masks only
                int* tile_doc_max = tile_doc_min + Q_TILES;
                const int* docs = $DOCS;
                // The first key tiles are seen by the most queries: blocks of every (kv head, sequence) of key tile 0
                // come first, then of key tile 1, ...
                const int key_tile = blockIdx.x / (KV_HEADS * BATCH), key0 = key_tile * BLOCK_N;
                const int kv_head = blockIdx.x % KV_HEADS, batch = (blockIdx.x / KV_HEADS) % BATCH;
                const long first_token = (long) batch * SEQ;
                const int warpgroup = threadIdx.x / 128, lane = threadIdx.x % 32;
                // Query tiles from the diagonal: the first crosses it.
                const int first_query_tile = key_tile;

                if (threadIdx.x == 0) {
                    mbar_init(kv_full, 1);
                    for (int s = 0; s < STAGES; ++s) {
                        mbar_init(&full[s], 1);
                        mbar_init(&empty[s], 4);  // one arrival per warp of the consumer whose turn it was
                    }
                    mbar_init(consumers_done, 2 * 128);
                    *failed = 0;
                    mbar_init_fence();
                }
                $DOCUMENT_RANGES
                __syncthreads();
                const int key_doc_min = DOCUMENT_MASK ? tile_doc_min[key_tile] : 0;
                const int key_doc_max = DOCUMENT_MASK ? tile_doc_max[key_tile] : 0;
                auto tile_visible = [&](int t) {
                    return !DOCUMENT_MASK || (tile_doc_max[t] >= key_doc_min && tile_doc_min[t] <= key_doc_max);
                };

                if (warpgroup == 0) {
                    $PRODUCER_REGISTERS
                    if (threadIdx.x == 0) {
                        prefetch_tensor_map(&q);
                        prefetch_tensor_map(&k);
                        prefetch_tensor_map(&v);
                        prefetch_tensor_map(&dout);
                        const int first_row = batch * SEQ;
                        mbar_arrive_expect_tx(kv_full, 2 * KV_BYTES);
                        #pragma unroll
                        for (int p = 0; p < PANELS; ++p) {
                            tma_load_2d(k_smem + p * KV_PANEL_BYTES, &k, kv_head * HEAD_DIM + p * PANEL_COLUMNS, first_row + key0, kv_full);
                            tma_load_2d(v_smem + p * KV_PANEL_BYTES, &v, kv_head * HEAD_DIM + p * PANEL_COLUMNS, first_row + key0, kv_full);
                        }
                        int it = 0;
                        for (int head = kv_head * GROUP; head < (kv_head + 1) * GROUP; ++head) {
                            const long rows = ((long) batch * HEADS + head) * SEQ;
                            for (int qt = first_query_tile; qt < Q_TILES; ++qt) {
                                if (!tile_visible(qt)) continue;
                                const int stage = it % STAGES;
                                mbar_wait(&empty[stage], ((it / STAGES) & 1) ^ 1);
                                ++it;
                                mbar_arrive_expect_tx(&full[stage], STAGE_BYTES);
                                #pragma unroll
                                for (int p = 0; p < PANELS; ++p) {
                                    tma_load_2d(q_ring_smem + stage * Q_BYTES + p * Q_PANEL_BYTES, &q,
                                                head * HEAD_DIM + p * PANEL_COLUMNS, first_row + qt * BLOCK_M, &full[stage]);
                                    tma_load_2d(dout_ring_smem + stage * Q_BYTES + p * Q_PANEL_BYTES, &dout,
                                                head * HEAD_DIM + p * PANEL_COLUMNS, first_row + qt * BLOCK_M, &full[stage]);
                                }
                                bulk_load(lse_ring + stage * BLOCK_M, lse + rows + qt * BLOCK_M, ROW_BYTES, &full[stage]);
                                bulk_load(delta_ring + stage * BLOCK_M, delta + rows + qt * BLOCK_M, ROW_BYTES, &full[stage]);
                            }
                        }
                        // Fail the launch for the consumers if one of their waits timed out (or if they never finish).
                        mbar_wait(consumers_done, 0);
                        if (*(volatile int*) failed) __trap();
                    }
                } else {
                    $CONSUMER_REGISTERS
                    const int consumer = warpgroup - 1, warp = (threadIdx.x / 32) % 4, g = lane / 4, c = 2 * (lane % 4);
                    const unsigned k_rows = smem_u32(k_smem), v_rows = smem_u32(v_smem);
                    const unsigned q_ring = smem_u32(q_ring_smem), dout_ring = smem_u32(dout_ring_smem);
                    // This thread's two keys (positions in the sequence).
                    const int key_lo = key0 + warp * 16 + g, key_hi = key_lo + 8;
                    const int* sequence_docs = DOCUMENT_MASK ? docs + first_token : nullptr;
                    // A lost copy must fail the launch, not hang it: see mbar_wait_or_late.
                    bool late = false;
                    float dk_acc[D_FRAGS][4], dv_acc[D_FRAGS][4];
                    #pragma unroll
                    for (int j = 0; j < D_FRAGS; ++j) {
                        dk_acc[j][0] = dk_acc[j][1] = dk_acc[j][2] = dk_acc[j][3] = 0.0f;
                        dv_acc[j][0] = dv_acc[j][1] = dv_acc[j][2] = dv_acc[j][3] = 0.0f;
                    }
                    float s[S_FRAGS][4], dp[S_FRAGS][4];
                    mbar_wait_or_late(kv_full, 0, late);
                    // The visible (head, query tile) pairs in the producer's order, which fills the ring in it;
                    // this consumer takes every other one. A loop with no skipping branch around the wgmmas: with
                    // one, NVRTC 12.6's ptxas spills at headDim 128.
                    const int last_head = (kv_head + 1) * GROUP - 1;
                    int head = kv_head * GROUP, qt = first_query_tile - 1;
                    auto advance = [&]() {
                        do {
                            if (++qt == Q_TILES) {
                                qt = first_query_tile;
                                ++head;
                            }
                        } while (head <= last_head && !tile_visible(qt));
                    };
                    advance();
                    if (consumer == 1) advance();
                    $LOOP
                    // The second consumer's partial sums to the first through the ring, idle once both are done
                    // (each consumer's thread t holds the same fragment positions: no layout change).
                    consumer_sync();
                    float* partial = reinterpret_cast<float*>(q_ring_smem);  // [2][D_FRAGS][4][128]
                    const int t = threadIdx.x % 128;
                    if (consumer == 1) {
                        #pragma unroll
                        for (int j = 0; j < D_FRAGS; ++j)
                            #pragma unroll
                            for (int e = 0; e < 4; ++e) {
                                partial[(j * 4 + e) * 128 + t] = dk_acc[j][e];
                                partial[((D_FRAGS + j) * 4 + e) * 128 + t] = dv_acc[j][e];
                            }
                    }
                    consumer_sync();
                    if (consumer == 0) {
                        #pragma unroll
                        for (int j = 0; j < D_FRAGS; ++j)
                            #pragma unroll
                            for (int e = 0; e < 4; ++e) {
                                dk_acc[j][e] += partial[(j * 4 + e) * 128 + t];
                                dv_acc[j][e] += partial[((D_FRAGS + j) * 4 + e) * 128 + t];
                            }
                        bf16_t* dk_lo = dk + (first_token + key_lo) * KV_STRIDE + kv_head * HEAD_DIM;
                        bf16_t* dk_hi = dk + (first_token + key_hi) * KV_STRIDE + kv_head * HEAD_DIM;
                        bf16_t* dv_lo = dv + (first_token + key_lo) * KV_STRIDE + kv_head * HEAD_DIM;
                        bf16_t* dv_hi = dv + (first_token + key_hi) * KV_STRIDE + kv_head * HEAD_DIM;
                        #pragma unroll
                        for (int j = 0; j < D_FRAGS; ++j) {
                            *reinterpret_cast<unsigned*>(dk_lo + 8 * j + c) = pack_bf16x2(dk_acc[j][0], dk_acc[j][1]);
                            *reinterpret_cast<unsigned*>(dv_lo + 8 * j + c) = pack_bf16x2(dv_acc[j][0], dv_acc[j][1]);
                            *reinterpret_cast<unsigned*>(dk_hi + 8 * j + c) = pack_bf16x2(dk_acc[j][2], dk_acc[j][3]);
                            *reinterpret_cast<unsigned*>(dv_hi + 8 * j + c) = pack_bf16x2(dv_acc[j][2], dv_acc[j][3]);
                        }
                    }
                    // The producer's thread traps for a late consumer: a trap in this branch costs the wgmmas their
                    // registers (see mbar_wait_or_late).
                    if (late) *failed = 1;
                    mbar_arrive(consumers_done);
                }
            }
            """;
}
