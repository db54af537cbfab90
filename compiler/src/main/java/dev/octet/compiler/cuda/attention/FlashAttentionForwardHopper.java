package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.HopperPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.gemm.GemmTileHeuristic;
import dev.octet.compiler.ir.DType;
import java.util.List;
import java.util.Objects;

/**
 * Causal attention forward for Hopper (sm_90a), FlashAttention-3 style: the same inputs, outputs and numbers as
 * {@link FlashAttentionForward} ({@code o = softmax(q·kᵀ/√headDim, causal and document mask)·v} and the
 * log-sum-exp of every score row), on {@code wgmma} with operands brought by TMA.
 *
 * <p>Blocks of three warpgroups; a work unit is 128 queries of one head and sequence. The producer warpgroup
 * gives its registers back ({@code setmaxnreg}) and one thread copies, per unit, the q tile and, for every key
 * tile from the diagonal down to the first, k and v ({@value #BLOCK_N} keys × headDim) into a ring of
 * {@code stages} shared-memory stages (128-byte swizzle, 64-column panels; full and empty mbarriers per stage,
 * k and v on separate full barriers so a unit's first scores start before its v lands). Each of the two
 * consumer warpgroups owns 64 query rows: {@code s = q·kᵀ} by {@code wgmma m64n128k16} from shared memory, an
 * online softmax in FP32 registers (base 2, the scale folded into one fused multiply-add), the probabilities
 * rounded to BF16 in registers and {@code o += p·v} by {@code wgmma m64n<headDim>k16} with A from registers and
 * v read MN-major.
 * {@link Schedule} says how a consumer's softmax overlaps the tensor cores.
 *
 * <p>Causal: only tiles at or below the diagonal are visited, and only the diagonal tile (the first visited)
 * is masked. Query tiles past a sequence whose length is not a multiple of 128 compute rows they do not store;
 * key rows past it are never visible to a stored row. Under a document mask each block first reduces the
 * document ids of every key tile of every sequence to a range: a tile whose range misses the query tile's is skipped by producer
 * and consumers alike, one holding a single document equal to the queries' one is not masked, others are
 * masked key by key. Grouped-query heads read their kv head's columns of k and v in place.
 *
 * <p>Parameters: {@code q, k, v} as tensor maps over bf16[tokens, heads·headDim] (k, v: kvHeads·headDim),
 * {@code [document_ids], o, lse} as {@link FlashAttentionForward}'s.
 *
 * <p>Persistent: one block per SM walks work units (query tile, head, sequence) ordered longest first, in rounds
 * of one unit per block, every other round reversed. The producer loads a unit's first k before waiting for the
 * consumers to free q (their last wgmma of the previous unit), so the next unit's copies overlap the epilogue.
 */
public record FlashAttentionForwardHopper(AttentionShape shape, int stages, Schedule schedule) implements KernelSpec {
    /** How a consumer warpgroup orders its tensor-core work and its softmax. */
    public enum Schedule {
        /** One key tile at a time: scores, wait, softmax, p·v, wait. */
        SERIAL("_serial"),
        /**
         * Tile j+1's scores are issued together with tile j's p·v; the softmax of tile j+1 waits for the scores
         * only and runs while the tensor cores finish p·v (FlashAttention-3's intra-warpgroup overlap).
         */
        OVERLAPPED(""),
        /**
         * OVERLAPPED, and the two consumer warpgroups take turns issuing their wgmmas (an mbarrier each), so that
         * one's softmax runs under the other's products (FlashAttention-3's ping-pong).
         */
        PINGPONG("_pingpong");

        final String suffix;

        Schedule(String suffix) {
            this.suffix = suffix;
        }
    }

    static final int BLOCK_M = 128, BLOCK_N = 128;
    static final int PANEL_COLUMNS = HopperAttentionSource.PANEL_COLUMNS;
    static final int THREADS = HopperAttentionSource.THREADS;
    /**
     * 40 × 128 + 2 × 232 × 128 = 64,512, what a block of 384 threads capped at 168 registers starts with. The
     * persistent producer's loop spills at 24; the consumers need at most ~220 (headDim 128, document mask).
     */
    static final int PRODUCER_REGISTERS = 40, CONSUMER_REGISTERS = 232;
    static final int SHARED_LIMIT = HopperAttentionSource.SHARED_LIMIT;
    static final int MAX_STAGES = 4;

    public FlashAttentionForwardHopper {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(schedule, "schedule");
        if (!supports(shape)) {
            throw new IllegalArgumentException("FlashAttentionForwardHopper cannot run " + shape.suffix() + ": q, two stages "
                    + "and the per-tile document ranges need " + sharedBytes(shape, 2) + " bytes of shared memory, more than "
                    + SHARED_LIMIT + "; FlashAttentionForward runs it");
        }
        if (stages < 2 || sharedBytes(shape, stages) > SHARED_LIMIT) {
            throw new IllegalArgumentException("FlashAttentionForwardHopper: " + stages + " stages of " + BLOCK_N + " keys × "
                    + shape.headDim() + " need " + sharedBytes(shape, stages) + " bytes of shared memory; 2 to "
                    + maxStages(shape) + " fit in " + SHARED_LIMIT);
        }
    }

    /** As many stages as fit (at most {@value #MAX_STAGES}), softmax overlapped with the tensor cores. */
    public static FlashAttentionForwardHopper of(AttentionShape shape) {
        return of(shape, Schedule.OVERLAPPED);
    }

    public static FlashAttentionForwardHopper of(AttentionShape shape, Schedule schedule) {
        return new FlashAttentionForwardHopper(shape, maxStages(shape), schedule);
    }

    /** Whether this kernel runs {@code shape}: every {@link AttentionShape} whose ring of two stages fits. */
    public static boolean supports(AttentionShape shape) {
        return sharedBytes(shape, 2) <= SHARED_LIMIT;
    }

    static int maxStages(AttentionShape shape) {
        return HopperAttentionSource.maxStages(MAX_STAGES, 1, stages -> sharedBytes(shape, stages) <= SHARED_LIMIT);
    }

    static int queryTiles(AttentionShape shape) {
        return Math.ceilDiv(shape.seq(), BLOCK_M);
    }

    /** Work units: (query tile, head, sequence). */
    static int units(AttentionShape shape) {
        return queryTiles(shape) * shape.heads() * shape.batch();
    }

    /**
     * 1 KiB to align the swizzled tiles, q, the k and v rings, 5 + 3·stages mbarriers, a flag (8 bytes), per-tile
     * document ranges.
     */
    static int sharedBytes(AttentionShape shape, int stages) {
        int rowBytes = shape.headDim() * 2;
        int documentRanges = shape.documentMask() ? 2 * 4 * shape.batch() * queryTiles(shape) : 0;
        return 1024 + BLOCK_M * rowBytes + 2 * stages * BLOCK_N * rowBytes + 8 * (5 + 3 * stages) + 8 + documentRanges;
    }

    @Override
    public String kernelName() {
        return "flash_attention_forward_wgmma_" + shape.suffix() + "_s" + stages + schedule.suffix;
    }

    public List<KernelParam> params() {
        return AttentionParams.of(shape, List.of(HopperAttentionSource.tensorMap("q", shape, BLOCK_M, false),
                        HopperAttentionSource.tensorMap("k", shape, BLOCK_N, true), HopperAttentionSource.tensorMap("v", shape, BLOCK_N, true)),
                KernelParam.out("o", DType.BF16), KernelParam.out("lse", DType.F32));
    }

    @Override
    public CudaKernel emit() {
        int sharedBytes = sharedBytes(shape, stages);
        int units = units(shape);
        int blocks = Math.min(units, GemmTileHeuristic.SM_COUNT);
        String description = """
                %s
                Causal flash attention forward on Hopper (wgmma + TMA, FP32 online softmax), %s.
                q, o: bf16[%d tokens, %d heads × %d]; k, v: bf16[%d tokens, %d kv heads × %d]; lse: f32[%d, %d, %d].
                Tiles: %d queries × %d keys; 1 producer + 2 consumer warpgroups of 64 query rows; %d stages; schedule %s.
                %d work units (query tile, head, sequence) on a persistent grid of %d blocks; %d bytes of dynamic shared memory.
                Oracle: dev.octet.cpu.ops.Attention.""".formatted(
                kernelName(), shape.documentMask() ? "document-masked" : "no document mask",
                shape.tokens(), shape.heads(), shape.headDim(), shape.tokens(), shape.kvHeads(), shape.headDim(),
                shape.batch(), shape.heads(), shape.seq(), BLOCK_M, BLOCK_N, stages,
                schedule.name().toLowerCase(java.util.Locale.ROOT), units, blocks, sharedBytes);
        String constants = shape.constants() + """
                constexpr int BATCH = %d;
                constexpr int BLOCK_M = %d, BLOCK_N = %d, STAGES = %d, THREADS = %d;
                constexpr int Q_TILES = (SEQ + BLOCK_M - 1) / BLOCK_M, UNITS = Q_TILES * HEADS * BATCH;
                constexpr int PANEL_COLUMNS = %d, PANELS = HEAD_DIM / PANEL_COLUMNS;  // 128-byte swizzled panels of a tile
                constexpr int Q_PANEL_BYTES = BLOCK_M * 128, KV_PANEL_BYTES = BLOCK_N * 128;
                constexpr int Q_BYTES = PANELS * Q_PANEL_BYTES, KV_BYTES = PANELS * KV_PANEL_BYTES;
                constexpr int S_FRAGS = BLOCK_N / 8, O_FRAGS = HEAD_DIM / 8;  // n8 column groups of the accumulators
                constexpr int P_STEPS = BLOCK_N / 16;  // k16 steps of p·v
                constexpr bool PINGPONG = %b;  // the consumer warpgroups take turns issuing wgmmas
                """.formatted(shape.batch(), BLOCK_M, BLOCK_N, stages, THREADS, PANEL_COLUMNS, schedule == Schedule.PINGPONG);
        String body = constants + "\n" + HopperPrelude.source() + "\n"
                + HopperAttentionSource.SCALAR_FUNCTIONS + scoresWgmma() + outputWgmma() + consumerFunctions()
                + KERNEL.replace("$NAME", kernelName())
                        .replace("$SIGNATURE", CudaKernel.signature(params()))
                        .replace("$DOCS", shape.documentMask() ? "document_ids" : "nullptr")
                        .replace("$PRODUCER_REGISTERS", HopperPrelude.setMaxRegisters(false, PRODUCER_REGISTERS))
                        .replace("$CONSUMER_REGISTERS", HopperPrelude.setMaxRegisters(true, CONSUMER_REGISTERS))
                        .replace("$CONSUMER_SETUP", schedule == Schedule.SERIAL ? "" : TURNS)
                        .replace("$CONSUMER_LOOP", schedule == Schedule.SERIAL ? SERIAL_LOOP : OVERLAPPED_LOOP)
                        .replace("$PRODUCER_TILE_FILTERS", TILE_VISIBLE)
                        .replace("$CONSUMER_TILE_FILTERS", (TILE_VISIBLE + CONSUMER_TILE_LOOKUPS).indent(-4));
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(blocks, THREADS, sharedBytes), params());
    }

    /** {@code wgmma_scores(s, desc_q, desc_k, accumulate)}: s (64 × BLOCK_N) (+)= q·kᵀ over 16 of headDim. */
    private static String scoresWgmma() {
        return HopperAttentionSource.kMajorWgmma("wgmma_scores", BLOCK_N, "S_FRAGS", """
                // s (64 x BLOCK_N, FP32) = or += q·kᵀ over 16 of head_dim; q and k from shared memory, both K-major.
                """);
    }

    /** {@code wgmma_output(o, p, desc_v)}: o (64 × headDim) += p·v over 16 keys, p from registers. */
    private String outputWgmma() {
        return HopperAttentionSource.mnMajorWgmma("wgmma_output", shape.headDim(), "O_FRAGS", """
                // o (64 x HEAD_DIM, FP32) += p·v over 16 keys: p as BF16 pairs in registers, v from shared memory read
                // MN-major.
                """);
    }

    /**
     * A consumer thread holds, per warp of 16 rows, rows g and g + 8 (g = lane / 4) and, in every n8 column
     * group j, columns 8j + c and 8j + c + 1 (c = 2·(lane % 4)): mma.sync's m16n8 layout, repeated.
     */
    private static String consumerFunctions() {
        return HopperAttentionSource.FENCE_FRAGMENTS
                + HopperAttentionSource.issueKMajor("issue_scores", "wgmma_scores", "S_FRAGS", "Q_PANEL_BYTES", "KV_PANEL_BYTES", """
                        // Issues s = q·kᵀ for one key tile (HEAD_DIM / 16 wgmmas) as one commit group.
                        """)
                + HopperAttentionSource.issueMnMajor("issue_output", "wgmma_output", "O_FRAGS", "P_STEPS", "KV_PANEL_BYTES", """
                        // Issues o += p·v for one key tile (BLOCK_N / 16 wgmmas) as one commit group.
                        """)
                + HopperAttentionSource.PACK_FRAGMENTS + SOFTMAX_FUNCTIONS;
    }

    private static final String SOFTMAX_FUNCTIONS = """
            // Hides scores the rows may not see: keys after the row (diagonal tile) or of another document.
            template <bool CAUSAL>
            __device__ __forceinline__ void mask_scores(float (&s)[S_FRAGS][4], int key0, int row_lo, int row_hi,
                                                        const int* key_docs, int doc_lo, int doc_hi) {
                const int c = 2 * (threadIdx.x % 4);
                #pragma unroll
                for (int j = 0; j < S_FRAGS; ++j) {
                    const int key = key0 + 8 * j + c;
                    int2 kd = make_int2(doc_lo, doc_lo);
                    // Keys past the sequence (a ragged last tile) are after every stored row: any document will do.
                    if (DOCUMENT_MASK) kd = __ldg(reinterpret_cast<const int2*>(key_docs + min(key, SEQ - 2)));
                    #pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int k = key + (e & 1), row = e < 2 ? row_lo : row_hi;
                        const int kdoc = (e & 1) ? kd.y : kd.x;
                        const bool visible = (!CAUSAL || k <= row) && (!DOCUMENT_MASK || kdoc == (e < 2 ? doc_lo : doc_hi));
                        if (!visible) s[j][e] = negative_infinity();
                    }
                }
            }

            // Online softmax over one tile of raw scores: updates the running maxima (scaled, base 2) and this
            // thread's part of the row sums, turns s into unnormalised probabilities, returns the factors by
            // which o must be rescaled.
            __device__ __forceinline__ void softmax_step(float (&s)[S_FRAGS][4], float& max_lo, float& max_hi,
                                                         float& sum_lo, float& sum_hi, float& rescale_lo, float& rescale_hi) {
                float tile_lo = negative_infinity(), tile_hi = negative_infinity();
                #pragma unroll
                for (int j = 0; j < S_FRAGS; ++j) {
                    tile_lo = fmaxf(tile_lo, fmaxf(s[j][0], s[j][1]));
                    tile_hi = fmaxf(tile_hi, fmaxf(s[j][2], s[j][3]));
                }
                // The four threads of a quad hold the same two rows.
                #pragma unroll
                for (int step = 1; step < 4; step <<= 1) {
                    tile_lo = fmaxf(tile_lo, __shfl_xor_sync(0xffffffffu, tile_lo, step));
                    tile_hi = fmaxf(tile_hi, __shfl_xor_sync(0xffffffffu, tile_hi, step));
                }
                const float new_lo = fmaxf(max_lo, tile_lo * SCALE_LOG2E), new_hi = fmaxf(max_hi, tile_hi * SCALE_LOG2E);
                // A row that has seen no visible key yet keeps max −inf: subtract 0 instead, so that its
                // probabilities are exp2(−inf) = 0 rather than NaN.
                const float base_lo = new_lo == negative_infinity() ? 0.0f : new_lo;
                const float base_hi = new_hi == negative_infinity() ? 0.0f : new_hi;
                rescale_lo = exp2_ftz(max_lo - base_lo);
                rescale_hi = exp2_ftz(max_hi - base_hi);
                float tile_sum_lo = 0.0f, tile_sum_hi = 0.0f;
                #pragma unroll
                for (int j = 0; j < S_FRAGS; ++j) {
                    s[j][0] = exp2_ftz(fmaf(s[j][0], SCALE_LOG2E, -base_lo));
                    s[j][1] = exp2_ftz(fmaf(s[j][1], SCALE_LOG2E, -base_lo));
                    s[j][2] = exp2_ftz(fmaf(s[j][2], SCALE_LOG2E, -base_hi));
                    s[j][3] = exp2_ftz(fmaf(s[j][3], SCALE_LOG2E, -base_hi));
                    tile_sum_lo += s[j][0] + s[j][1];
                    tile_sum_hi += s[j][2] + s[j][3];
                }
                sum_lo = sum_lo * rescale_lo + tile_sum_lo;
                sum_hi = sum_hi * rescale_hi + tile_sum_hi;
                max_lo = new_lo;
                max_hi = new_hi;
            }

            __device__ __forceinline__ void rescale_output(float (&o)[O_FRAGS][4], float rescale_lo, float rescale_hi) {
                #pragma unroll
                for (int j = 0; j < O_FRAGS; ++j) {
                    o[j][0] *= rescale_lo;
                    o[j][1] *= rescale_lo;
                    o[j][2] *= rescale_hi;
                    o[j][3] *= rescale_hi;
                }
            }

            """;

    /** {@link Schedule#SERIAL}: one key tile at a time. */
    private static final String SERIAL_LOOP = """
                        for (int kt = q_tile; kt >= 0; --kt) {
                            if (!tile_visible(kt)) continue;
                            const int stage = it % STAGES;
                            const unsigned phase = (it / STAGES) & 1;
                            ++it;
                            mbar_wait_or_late(&k_full[stage], phase, late);
                            fence_fragments(s);
                            wgmma_fence();
                            issue_scores(s, q_rows, k_ring + stage * KV_BYTES);
                            wgmma_wait<0>();
                            fence_fragments(s);
                            if (kt == q_tile) mask_scores<true>(s, kt * BLOCK_N, row_lo, row_hi, key_docs, doc_lo, doc_hi);
                            else if (tile_mixed(kt)) mask_scores<false>(s, kt * BLOCK_N, row_lo, row_hi, key_docs, doc_lo, doc_hi);
                            float rescale_lo, rescale_hi;
                            softmax_step(s, max_lo, max_hi, sum_lo, sum_hi, rescale_lo, rescale_hi);
                            rescale_output(acc, rescale_lo, rescale_hi);
                            pack_fragments(p, s);
                            mbar_wait_or_late(&v_full[stage], phase, late);
                            fence_fragments(acc);
                            wgmma_fence();
                            issue_output(acc, p, v_ring + stage * KV_BYTES);
                            wgmma_wait<0>();
                            fence_fragments(acc);
                            if (lane == 0) mbar_arrive(&kv_empty[stage]);
                        }
            """;

    /**
     * Before the first unit, under PINGPONG: the consumers alternate, consumer 0 issuing first, then each waiting
     * for the other to have issued before its next turn. Both take one turn per key tile plus one per unit, so
     * neither waits for a turn the other never gives, and neither runs two phases ahead of the barrier it waits on.
     */
    private static final String TURNS = """
                    unsigned turns = 0;
                    auto take_turn = [&]() {
                        if (PINGPONG) mbar_wait_or_late(&turn[consumer], turns++ & 1, late);
                    };
                    auto pass_turn = [&]() {
                        if (PINGPONG && lane == 0) mbar_arrive(&turn[1 - consumer]);
                    };
                    if (PINGPONG && consumer == 1 && lane == 0) mbar_arrive(&turn[0]);
            """;

    /**
     * {@link Schedule#OVERLAPPED} and {@link Schedule#PINGPONG}: tile j's p·v is issued right after tile j+1's
     * scores; the softmax of tile j+1 waits for the scores only and runs while the tensor cores finish p·v, whose
     * A registers (p) it leaves alone until that group is done. Every issue is one turn (a no-op unless PINGPONG).
     */
    private static final String OVERLAPPED_LOOP = """
                        // The diagonal tile first: it is always visited and the only one the causal mask cuts.
                        int kt = q_tile;
                        int stage = it % STAGES;
                        unsigned phase = (it / STAGES) & 1;
                        ++it;
                        mbar_wait_or_late(&k_full[stage], phase, late);
                        take_turn();
                        fence_fragments(s);
                        wgmma_fence();
                        issue_scores(s, q_rows, k_ring + stage * KV_BYTES);
                        pass_turn();
                        // The tiles' visibility and masks are read from shared memory while the tensor cores run.
                        int kn = visible_before(kt);
                        wgmma_wait<0>();
                        fence_fragments(s);
                        mask_scores<true>(s, kt * BLOCK_N, row_lo, row_hi, key_docs, doc_lo, doc_hi);
                        {
                            float rescale_lo, rescale_hi;  // o is still zero
                            softmax_step(s, max_lo, max_hi, sum_lo, sum_hi, rescale_lo, rescale_hi);
                        }
                        pack_fragments(p, s);
                        for (kt = kn; kt >= 0; kt = kn) {
                            const int next_stage = it % STAGES;
                            const unsigned next_phase = (it / STAGES) & 1;
                            ++it;
                            // Both waits before the fence: a wait loop between two wgmmas would serialise them.
                            mbar_wait_or_late(&k_full[next_stage], next_phase, late);
                            mbar_wait_or_late(&v_full[stage], phase, late);
                            take_turn();
                            fence_fragments(s);
                            fence_fragments(acc);
                            wgmma_fence();
                            issue_scores(s, q_rows, k_ring + next_stage * KV_BYTES);
                            issue_output(acc, p, v_ring + stage * KV_BYTES);
                            pass_turn();
                            const bool mixed = tile_mixed(kt);
                            kn = visible_before(kt);
                            wgmma_wait<1>();  // the scores are in; p·v may still run
                            fence_fragments(s);
                            if (mixed) mask_scores<false>(s, kt * BLOCK_N, row_lo, row_hi, key_docs, doc_lo, doc_hi);
                            float rescale_lo, rescale_hi;
                            softmax_step(s, max_lo, max_hi, sum_lo, sum_hi, rescale_lo, rescale_hi);
                            wgmma_wait<0>();
                            fence_fragments(acc);
                            if (lane == 0) mbar_arrive(&kv_empty[stage]);
                            rescale_output(acc, rescale_lo, rescale_hi);
                            pack_fragments(p, s);
                            stage = next_stage;
                            phase = next_phase;
                        }
                        mbar_wait_or_late(&v_full[stage], phase, late);
                        take_turn();
                        fence_fragments(acc);
                        wgmma_fence();
                        issue_output(acc, p, v_ring + stage * KV_BYTES);
                        pass_turn();
                        wgmma_wait<0>();
                        fence_fragments(acc);
                        if (lane == 0) mbar_arrive(&kv_empty[stage]);
            """;

    private static final String KERNEL = """
            // Work unit u, longest first: every (head, sequence) of the last query tile, then of the one before, ...
            struct work_unit_t {
                int q_tile, head, batch;
            };

            __device__ __forceinline__ work_unit_t work_unit(int u) {
                return {Q_TILES - 1 - u / (HEADS * BATCH), u % HEADS, (u / HEADS) % BATCH};
            }

            // The i-th unit of this block: rounds of gridDim.x units, every other round in reverse, so that the blocks
            // that took the longest units of one round take the shortest of the next.
            __device__ __forceinline__ int unit_at(int i) {
                return i * gridDim.x + ((i & 1) ? gridDim.x - 1 - blockIdx.x : blockIdx.x);
            }

            extern "C" __global__ void __launch_bounds__(THREADS, 1) $NAME$SIGNATURE {
                extern __shared__ __align__(1024) unsigned char smem_raw[];
                // The 128-byte swizzle repeats every 1024 bytes: tiles start on such a boundary.
                unsigned char* smem = align_shared_1024(smem_raw);
                unsigned char* q_tile_smem = smem;
                unsigned char* k_ring_smem = smem + Q_BYTES;
                unsigned char* v_ring_smem = k_ring_smem + STAGES * KV_BYTES;
                unsigned long long* q_full = (unsigned long long*) (v_ring_smem + STAGES * KV_BYTES);
                unsigned long long* q_empty = q_full + 1;
                unsigned long long* k_full = q_empty + 1;
                unsigned long long* v_full = k_full + STAGES;
                unsigned long long* kv_empty = v_full + STAGES;
                unsigned long long* turn = kv_empty + STAGES;  // [2], a consumer's turn to issue wgmmas (PINGPONG)
                unsigned long long* consumers_done = turn + 2;
                int* failed = (int*) (consumers_done + 1);  // a consumer's wait timed out
                int* tile_doc_min = failed + 2;  // [BATCH][Q_TILES], document masks only
                int* tile_doc_max = tile_doc_min + BATCH * Q_TILES;
                const int* docs = $DOCS;
                const int warpgroup = threadIdx.x / 128, lane = threadIdx.x % 32;

                if (threadIdx.x == 0) {
                    mbar_init(q_full, 1);
                    mbar_init(q_empty, 2 * 4);  // one arrival per consumer warp
                    for (int s = 0; s < STAGES; ++s) {
                        mbar_init(&k_full[s], 1);
                        mbar_init(&v_full[s], 1);
                        mbar_init(&kv_empty[s], 2 * 4);
                    }
                    mbar_init(&turn[0], 4);  // one arrival per warp of the other consumer
                    mbar_init(&turn[1], 4);
                    mbar_init(consumers_done, 2 * 128);
                    *failed = 0;
                    mbar_init_fence();
                }
                if (DOCUMENT_MASK) {
                    // The range of document ids in every key tile of every sequence (rows past the sequence read its
                    // last id). A query tile's range is its key tile's. Unrolled so that several tiles' loads are in flight.
                    #pragma unroll 4
                    for (int t = threadIdx.x / 32; t < BATCH * Q_TILES; t += THREADS / 32) {
                        const long first = (long) (t / Q_TILES) * SEQ;
                        const int key0 = (t % Q_TILES) * BLOCK_N;
                        int lo = 0x7fffffff, hi = -0x7fffffff - 1;
                        for (int i = lane; i < BLOCK_N; i += 32) {
                            const int d = docs[first + min(key0 + i, SEQ - 1)];
                            lo = min(lo, d);
                            hi = max(hi, d);
                        }
                        #pragma unroll
                        for (int step = 16; step > 0; step >>= 1) {
                            lo = min(lo, __shfl_xor_sync(0xffffffffu, lo, step));
                            hi = max(hi, __shfl_xor_sync(0xffffffffu, hi, step));
                        }
                        if (lane == 0) {
                            tile_doc_min[t] = lo;
                            tile_doc_max[t] = hi;
                        }
                    }
                }
                __syncthreads();

                if (warpgroup == 0) {
                    $PRODUCER_REGISTERS
                    if (threadIdx.x == 0) {
                        prefetch_tensor_map(&q);
                        prefetch_tensor_map(&k);
                        prefetch_tensor_map(&v);
                        int it = 0;
                        for (int units = 0, u = unit_at(0); u < UNITS; u = unit_at(++units)) {
                            const work_unit_t w = work_unit(u);
                            const int q_tile = w.q_tile, head = w.head, kv_head = head / GROUP;
                            const int first_row = w.batch * SEQ;
            $PRODUCER_TILE_FILTERS
                            bool q_loaded = false;
                            for (int kt = q_tile; kt >= 0; --kt) {
                                if (!tile_visible(kt)) continue;
                                const int stage = it % STAGES;
                                mbar_wait(&kv_empty[stage], ((it / STAGES) & 1) ^ 1);
                                ++it;
                                const int key_row = first_row + kt * BLOCK_N;
                                mbar_arrive_expect_tx(&k_full[stage], KV_BYTES);
                                #pragma unroll
                                for (int p = 0; p < PANELS; ++p)
                                    tma_load_2d(k_ring_smem + stage * KV_BYTES + p * KV_PANEL_BYTES, &k,
                                                kv_head * HEAD_DIM + p * PANEL_COLUMNS, key_row, &k_full[stage]);
                                if (!q_loaded) {
                                    // After the unit's first k: that copy may go out while the previous unit still
                                    // reads q. Its last wgmma done, the consumers free q.
                                    mbar_wait(q_empty, (units & 1) ^ 1);
                                    mbar_arrive_expect_tx(q_full, Q_BYTES);
                                    #pragma unroll
                                    for (int p = 0; p < PANELS; ++p)
                                        tma_load_2d(q_tile_smem + p * Q_PANEL_BYTES, &q, head * HEAD_DIM + p * PANEL_COLUMNS,
                                                    first_row + q_tile * BLOCK_M, q_full);
                                    q_loaded = true;
                                }
                                mbar_arrive_expect_tx(&v_full[stage], KV_BYTES);
                                #pragma unroll
                                for (int p = 0; p < PANELS; ++p)
                                    tma_load_2d(v_ring_smem + stage * KV_BYTES + p * KV_PANEL_BYTES, &v,
                                                kv_head * HEAD_DIM + p * PANEL_COLUMNS, key_row, &v_full[stage]);
                            }
                        }
                        // Fail the launch for the consumers if one of their waits timed out (or if they never finish).
                        mbar_wait(consumers_done, 0);
                        if (*(volatile int*) failed) __trap();
                    }
                } else {
                    $CONSUMER_REGISTERS
                    const int consumer = warpgroup - 1, warp = (threadIdx.x / 32) % 4, g = lane / 4, c = 2 * (lane % 4);
                    const unsigned q_rows = smem_u32(q_tile_smem) + consumer * 64 * 128;  // this warpgroup's 64 rows
                    const unsigned k_ring = smem_u32(k_ring_smem), v_ring = smem_u32(v_ring_smem);
                    // A lost copy must fail the launch, not hang it: see mbar_wait_or_late.
                    bool late = false;
            $CONSUMER_SETUP
                    int it = 0;
                    for (int units = 0, u = unit_at(0); u < UNITS; u = unit_at(++units)) {
                        const work_unit_t w = work_unit(u);
                        const int q_tile = w.q_tile, head = w.head, batch = w.batch;
                        const long first_token = (long) batch * SEQ;
            $CONSUMER_TILE_FILTERS
                        // This thread's two query rows (positions in the sequence).
                        const int row_lo = q_tile * BLOCK_M + consumer * 64 + warp * 16 + g, row_hi = row_lo + 8;
                        const int* key_docs = DOCUMENT_MASK ? docs + first_token : nullptr;
                        const int doc_lo = DOCUMENT_MASK ? key_docs[min(row_lo, SEQ - 1)] : 0;
                        const int doc_hi = DOCUMENT_MASK ? key_docs[min(row_hi, SEQ - 1)] : 0;
                        // Declared per unit, so that nothing of a finished unit stays live into the next.
                        float s[S_FRAGS][4];
                        unsigned p[P_STEPS][4];
                        float acc[O_FRAGS][4];  // o, unnormalised
                        #pragma unroll
                        for (int j = 0; j < O_FRAGS; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.0f;
                        // Running maxima of the scaled scores (base 2) and this thread's part of the row sums.
                        float max_lo = negative_infinity(), max_hi = negative_infinity(), sum_lo = 0.0f, sum_hi = 0.0f;
                        mbar_wait_or_late(q_full, units & 1, late);
            $CONSUMER_LOOP
                        if (lane == 0) mbar_arrive(q_empty);  // every wgmma of this unit has completed
                        #pragma unroll
                        for (int step = 1; step < 4; step <<= 1) {
                            sum_lo += __shfl_xor_sync(0xffffffffu, sum_lo, step);
                            sum_hi += __shfl_xor_sync(0xffffffffu, sum_hi, step);
                        }
                        // Every query sees at least itself, so both sums are positive and both maxima finite.
                        const float inv_lo = 1.0f / sum_lo, inv_hi = 1.0f / sum_hi;
                        bf16_t* o_lo = o + (first_token + row_lo) * Q_STRIDE + head * HEAD_DIM;
                        bf16_t* o_hi = o + (first_token + row_hi) * Q_STRIDE + head * HEAD_DIM;
                        if (row_lo < SEQ) {
                            #pragma unroll
                            for (int j = 0; j < O_FRAGS; ++j)
                                *reinterpret_cast<unsigned*>(o_lo + 8 * j + c) = pack_bf16x2(acc[j][0] * inv_lo, acc[j][1] * inv_lo);
                        }
                        if (row_hi < SEQ) {
                            #pragma unroll
                            for (int j = 0; j < O_FRAGS; ++j)
                                *reinterpret_cast<unsigned*>(o_hi + 8 * j + c) = pack_bf16x2(acc[j][2] * inv_hi, acc[j][3] * inv_hi);
                        }
                        if (c == 0) {
                            float* lse_row = lse + ((long) batch * HEADS + head) * SEQ;
                            if (row_lo < SEQ) lse_row[row_lo] = (max_lo + log2f(sum_lo)) / LOG2E;
                            if (row_hi < SEQ) lse_row[row_hi] = (max_hi + log2f(sum_hi)) / LOG2E;
                        }
                    }
                    // The producer's thread traps for a late consumer: a trap anywhere in this branch costs the
                    // wgmmas their registers (NVRTC 12.6's ptxas spills ~0.5-0.9 KB; see mbar_wait_or_late).
                    if (late) *failed = 1;
                    mbar_arrive(consumers_done);
                }
            }
            """;

    /**
     * Per unit, for producer and consumers alike: a key tile no query of the unit can see (disjoint document
     * ranges) is skipped.
     */
    private static final String TILE_VISIBLE = """
                            const int* doc_min = tile_doc_min + w.batch * Q_TILES;
                            const int* doc_max = tile_doc_max + w.batch * Q_TILES;
                            const int q_doc_min = DOCUMENT_MASK ? doc_min[q_tile] : 0, q_doc_max = DOCUMENT_MASK ? doc_max[q_tile] : 0;
                            auto tile_visible = [&](int t) {
                                return !DOCUMENT_MASK || (doc_max[t] >= q_doc_min && doc_min[t] <= q_doc_max);
                            };
            """;

    /**
     * Per unit, for the consumers: a key tile holding only the queries' single document needs no document mask; the
     * visible key tile before tile t (-1 if none).
     */
    private static final String CONSUMER_TILE_LOOKUPS = """
                            auto tile_mixed = [&](int t) {
                                return DOCUMENT_MASK && !(q_doc_min == q_doc_max && doc_min[t] == q_doc_min && doc_max[t] == q_doc_max);
                            };
                            auto visible_before = [&](int t) {
                                do --t; while (t >= 0 && !tile_visible(t));
                                return t;
                            };
            """;
}
