package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.HopperPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.ScaleIndex;
import dev.octet.compiler.cuda.TensorMapView;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Gemm;
import dev.octet.numerics.ScaleGrid;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * FP8 GEMM for Hopper (sm_90a): {@code wgmma.mma_async} from shared memory filled by TMA, computing what
 * {@link Fp8Gemm#multiply} specifies (any mix of E4M3 and E5M2, any granularity whose promotion chunk
 * {@link #promotionChunk} is a multiple of 32): per chunk the tensor cores sum the products into a fresh
 * accumulator, which the CUDA cores scale by {@code sA·sB} and add into the FP32 result with one fused
 * multiply-add. The tensor cores sum a chunk with a narrower accumulator than FP32 (about 2^-13 relative on
 * Hopper, the reason the recipe promotes every 128 of K), so results agree with the oracle to ~1e-4, not to
 * the bit; docs/decisions.md says why this is accepted.
 *
 * <p>Structure (one thread block per SM, persistent): three warpgroups. The first is the producer: it gives
 * registers back ({@code setmaxnreg}) and one thread issues, for every K block of every tile the block owns,
 * two TMA copies (a {@code 128 × 128} box of A's codes and a {@code blockN × 128} box of B's, 128-byte
 * swizzle) into a ring of {@code stages} shared-memory stages guarded by mbarriers. The other two are
 * consumers with the registers: each owns 64 rows of the {@code 128 × blockN} tile and, per chunk, issues
 * {@code chunk / 32} wgmmas {@code m64n<blockN>k32}, waits, frees the stage, and promotes. Tiles are visited in
 * groups of {@link #GROUP_M} row tiles (all column tiles of a group before the next), so the blocks running at
 * once share operands in L2. Per chunk each consumer has two groups in flight (kLoop). The epilogue stages the tile
 * in shared memory and stores it by TMA while the consumers go on ({@link TmaStoreEpilogue}; from registers where TMA
 * cannot address C).
 *
 * <p>The scales travel beside the codes: the producer warpgroup's three other warps copy, each for every third ring
 * stage (one warp's L2 round trips would set the pace), A's 128 row scales and B's scale (one per tile, or one per
 * column for wgrad's token groups) of each chunk into a ring of scales in shared memory, so a consumer reads its scales from shared memory after the stage's barrier.
 * (Loading them from global memory in the consumers, even a K block ahead, left the consumers waiting on the
 * loads before their next wgmmas: a quarter of their stall samples on the H200.) With per-column B scales the
 * promotion reads them from the ring, so the stage is freed after the promotion rather than before it.
 *
 * <p>Split K ({@code splits > 1}, for {@code C += A·Bᵀ} into FP32 only: weight gradients, whose few tiles over a long K
 * leave most SMs idle, e.g. Qwen2.5's k/v wgrad 256 × 1536 over 16,384 tokens has 24 tiles for 132 SMs): the work
 * units are (tile, K range) pairs; each writes its FP32 sums to its own slice of {@code partials [splits, M, N]}, and
 * {@link SplitKReduce} then adds the slices to C in split order, so the result does not depend on the schedule.
 *
 * <p>The consumers' waits never trap (a reachable trap makes ptxas allocate their code with the launch bound's
 * 168 registers instead of setmaxnreg's): a consumer that waits too long marks itself late, and the producer's
 * thread, once every consumer warp is done, traps for it.
 *
 * <p>Parameters: {@code a} and {@code b} as tensor maps over the codes ({@code [M,K]}, {@code [N,K]},
 * row-major); {@code a_scales, b_scales} as FP32 arrays laid out as
 * {@code ScaleGrid.ofOperand(granularity, rows, K, transposed)} (tensor → 1; channel/token → {@code [rows, 1]};
 * group(g) → {@code [rows, ceil(K/g)]}, or {@code [ceil(K/g), rows]} for an operand written by a fused transpose;
 * block(b) → {@code [ceil(rows/b), ceil(K/b)]}); then
 * {@code [bias], [residual], c} as {@link MmaGemmSource#epilogueParams} lists them, or with split K
 * {@code partials} (f32 {@code [splits, M, N]}, written) in place of {@code c}; where the kernel stores by TMA,
 * {@code c} (or {@code partials}, as {@code [splits·M, N]}) is passed as a tensor map over the same buffer. An
 * accumulating epilogue then adds into C by TMA reductions: one FP32 add per element, rounded to nearest as
 * {@code __fadd_rn} (the memory system's FP32 adds may flush subnormal results to zero; the GPU tests hold them to
 * the oracle).
 */
public record Fp8WgmmaGemm(GemmProblem problem, int blockN, int stages, int cluster, int splits) implements GemmKernel {
    static final int BLOCK_M = WarpSpecializedGemm.BLOCK_M, BLOCK_K = 128, WGMMA_K = 32;
    static final int CONSUMERS = WarpSpecializedGemm.CONSUMERS, THREADS = WarpSpecializedGemm.THREADS;
    static final int GROUP_M = WarpSpecializedGemm.GROUP_M;
    static final int SHARED_LIMIT = WarpSpecializedGemm.SHARED_LIMIT;

    public Fp8WgmmaGemm {
        Objects.requireNonNull(problem, "problem");
        if (!supports(problem)) {
            throw new IllegalArgumentException("Fp8WgmmaGemm cannot run " + problem + ": " + whyNot(problem));
        }
        // 192 columns (96 + 96 accumulator registers, so one chunk in flight) compile without spills but measured
        // 14-26% slower than 128 on the H200, and again 12-22% with the TMA epilogue (docs/benchmarks.md).
        if (blockN != 64 && blockN != 128) {
            throw new IllegalArgumentException("blockN must be 64 or 128, not " + blockN);
        }
        if (cluster != 1 && cluster != 2) {
            throw new IllegalArgumentException("cluster must be 1 or 2 blocks, not " + cluster);
        }
        // Before the shared memory: a split's partial sums are staged as FP32, which may not fit where C's type did.
        WarpSpecializedGemm.checkSplits(problem, kBlocks(problem), splits, cluster != 1);
        if (stages < 2 || sharedBytes(problem, blockN, stages, splits) > SHARED_LIMIT) {
            throw new IllegalArgumentException(stages + " stages of 128x" + blockN + "x128 need "
                    + sharedBytes(problem, blockN, stages, splits) + " bytes of shared memory; at most " + SHARED_LIMIT);
        }
    }

    /** Without split K. */
    public Fp8WgmmaGemm(GemmProblem problem, int blockN, int stages, int cluster) {
        this(problem, blockN, stages, cluster, 1);
    }

    /** Whether this template runs {@code problem}. */
    public static boolean supports(GemmProblem problem) {
        return whyNot(problem).isEmpty();
    }

    /** The K extent between two promotions, {@link Fp8Gemm#chunkSize(ScaleGrid, ScaleGrid)}. */
    public static int promotionChunk(GemmProblem problem) {
        return Fp8Gemm.chunkSize(((GemmOperand.Fp8) problem.a()).scaleGrid(problem.m(), problem.k()),
                ((GemmOperand.Fp8) problem.b()).scaleGrid(problem.n(), problem.k()));
    }

    private static String whyNot(GemmProblem problem) {
        if (!problem.isFp8()) {
            return "operands are not FP8";
        }
        if (!problem.dense()) {
            return "FP8 codes and their outputs lie with their rows back to back (rows padded to " + problem.pitches() + ")";
        }
        if (problem.k() % WGMMA_K != 0) {
            return "K=" + problem.k() + " is not a multiple of " + WGMMA_K + " (one wgmma); pad the reduction axis with zero codes";
        }
        int chunk = promotionChunk(problem);
        if (chunk % WGMMA_K != 0 || BLOCK_K % chunk != 0) {
            return "promotion chunk " + chunk + " (gcd of 128 and the scale tile widths along K) is not a multiple of "
                    + WGMMA_K + ", the K of one wgmma: use groups or blocks of a multiple of 32";
        }
        return "";
    }

    /**
     * Column tiles of 128 (64 for narrow outputs), no clusters, as many stages as fit, and K split as
     * {@link WarpSpecializedGemm#chosenSplits} estimates fastest.
     */
    public static Fp8WgmmaGemm of(GemmProblem problem) {
        Fp8WgmmaGemm unsplit = withTiles(problem, problem.n() <= 64 ? 64 : 128, 1);
        // ~600 TFLOP/s a K block's products ran at in the H200's FP8 weight gradients
        return unsplit.withSplits(WarpSpecializedGemm.chosenSplits(problem, unsplit.tiles(), kBlocks(problem),
                2.0 * BLOCK_M * unsplit.blockN() * BLOCK_K / 600e12));
    }

    /** This kernel with K split {@code ways} ways. */
    public Fp8WgmmaGemm withSplits(int ways) {
        return new Fp8WgmmaGemm(problem, blockN, stages, cluster, ways);
    }

    /** Promotion chunks in one K block (stage). */
    static int chunksPerStage(GemmProblem problem) {
        return BLOCK_K / promotionChunk(problem);
    }

    static int kBlocks(GemmProblem problem) {
        return Math.ceilDiv(problem.k(), BLOCK_K);
    }

    /**
     * Column tiles of {@code blockN}, clusters of {@code cluster} blocks (2: the blocks of a pair compute
     * neighbouring column tiles of one row tile, and each loads half of the shared A box for both by TMA
     * multicast), and as many stages (up to 8) as fit in shared memory.
     */
    public static Fp8WgmmaGemm withTiles(GemmProblem problem, int blockN, int cluster) {
        if (!supports(problem)) {
            throw new IllegalArgumentException("Fp8WgmmaGemm cannot run " + problem + ": " + whyNot(problem));
        }
        int stages = 2;
        // (Sized for an unsplit K: a split's FP32 staging is never larger than an FP32 output's, and withSplits keeps
        // the stages, so a split kernel with a BF16 output would need its own count; splits are only of FP32 outputs.)
        while (stages < 8 && sharedBytes(problem, blockN, stages + 1, 1) <= SHARED_LIMIT) {
            stages++;
        }
        return new Fp8WgmmaGemm(problem, blockN, stages, cluster);
    }

    static int sharedBytes(GemmProblem problem, int blockN, int stages, int splits) {
        // The ring, the epilogue's staging for TMA stores (and the residual's barriers), 1 KiB to align both to the
        // 128-byte swizzle's 1024-byte period, three mbarriers per stage, the consumers-done mbarrier and the late flag (16 bytes), and the scales'
        // ring ([stages][chunks][128 A rows + 1 or blockN B columns] floats).
        int chunks = chunksPerStage(problem);
        int scaleRing = stages * chunks * (BLOCK_M + (uniformBScale(problem, blockN) ? 1 : blockN)) * 4;
        return stages * (BLOCK_M + blockN) * BLOCK_K + TmaStoreEpilogue.sharedBytes(problem, blockN, splits) + 1024 + 3 * 8 * stages + 16
                + scaleRing;
    }

    public int tiles() {
        return WarpSpecializedGemm.tiles(problem, blockN);
    }

    /** Column tile, cluster and K split of this kernel. */
    public GemmSchedule schedule() {
        return new GemmSchedule(blockN, cluster, splits);
    }

    /** This template with {@code schedule} for {@code problem} (as many stages as fit), or nothing where the template cannot run it so. */
    static Optional<Fp8WgmmaGemm> build(GemmProblem problem, GemmSchedule schedule) {
        try {
            return Optional.of(withTiles(problem, schedule.blockN(), schedule.cluster()).withSplits(schedule.splits()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** What the kernel computes, without how it is scheduled: the key of {@link GemmSchedules}. */
    public String problemKey() {
        return "fp8_wgmma_m" + problem.m() + "_n" + problem.n() + "_k" + problem.k()
                + "_a_" + aOperand().tag() + "_b_" + bOperand().tag() + "_" + problem.epilogue().tag();
    }

    @Override
    public String kernelName() {
        return problemKey() + "_t128x" + blockN + "_s" + stages + (cluster > 1 ? "_c" + cluster : "")
                + (splits > 1 ? "_split" + splits : "");
    }

    @Override
    public CudaKernel emit() {
        GemmOperand.Fp8 a = aOperand(), b = bOperand();
        ScaleGrid aGrid = a.scaleGrid(problem.m(), problem.k());
        ScaleGrid bGrid = b.scaleGrid(problem.n(), problem.k());
        int chunk = promotionChunk(problem);
        TensorMapView.Swizzle swizzle = TensorMapView.Swizzle.B128;
        List<KernelParam> params = new ArrayList<>(List.of(
                KernelParam.tensorMapIn("a", a.dtype(), new TensorMapView(problem.m(), problem.k(), BLOCK_M / cluster, BLOCK_K, swizzle)),
                KernelParam.in("a_scales", DType.F32),
                KernelParam.tensorMapIn("b", b.dtype(), new TensorMapView(problem.n(), problem.k(), blockN, BLOCK_K, swizzle)),
                KernelParam.in("b_scales", DType.F32)));
        params.addAll(TmaStoreEpilogue.params(problem, blockN, splits));
        String name = kernelName();
        int sharedBytes = sharedBytes(problem, blockN, stages, splits);
        String description = """
                %s
                C[M,N] = A[M,K] · B[N,K]ᵀ, M=%d N=%d K=%d, FP8 on Hopper tensor cores (wgmma m64n%dk32 %s x %s).
                A: %s codes [M,K] row-major, read by TMA; f32 scales %s along K, %s.
                B: %s codes [N,K] row-major, read by TMA; f32 scales %s along K, %s.
                Every %d of K the FP32 partial sums are scaled by sA·sB into FP32 accumulators (one fused multiply-add).
                %s.%s
                Tiles 128x%dx128, %d tiles on a persistent grid of %d blocks in clusters of %d; 1 producer + %d consumer warpgroups;
                %d TMA stages, %d bytes of dynamic shared memory.
                Oracle: dev.octet.numerics.Fp8Gemm.multiply.""".formatted(
                name, problem.m(), problem.n(), problem.k(), blockN, a.dtype().irName(), b.dtype().irName(),
                a.dtype().irName(), a.granularity().describe(), describe(aGrid),
                b.dtype().irName(), b.granularity().describe(), describe(bGrid),
                chunk, MmaGemmSource.describe(problem.epilogue()), SplitKReduce.describeSplit(splits), blockN, tiles(),
                gridBlocks(), cluster, CONSUMERS,
                stages, sharedBytes);
        String source = CudaPrelude.kernelSource(description,
                HopperPrelude.source() + "\n" + body(name, a, b, aGrid, bGrid, chunk, params));
        return new CudaKernel(name, source, LaunchGeometry.linear(gridBlocks(), THREADS, sharedBytes), params);
    }

    /** Blocks of the persistent grid: whole clusters, at most one block per SM. */
    private int gridBlocks() {
        int units = Math.ceilDiv(problem.m(), BLOCK_M) * Math.ceilDiv(Math.ceilDiv(problem.n(), blockN), cluster) * splits;
        return cluster * Math.min(units, GemmTileHeuristic.SM_COUNT / cluster);
    }

    private static String describe(ScaleGrid grid) {
        int[] shape = grid.storedShape();
        return grid.columnMajor() ? "[" + shape[0] + ", " + shape[1] + "] (K blocks × rows)"
                : "[" + shape[0] + ", " + shape[1] + "] row-major";
    }

    /** Whether every column of a tile shares its B scale in each chunk. */
    private static boolean uniformBScale(GemmProblem problem, int blockN) {
        ScaleGrid bGrid = ((GemmOperand.Fp8) problem.b()).scaleGrid(problem.n(), problem.k());
        return bGrid.tileRows() >= problem.n() || bGrid.tileRows() % blockN == 0;
    }

    private String body(String name, GemmOperand.Fp8 a, GemmOperand.Fp8 b, ScaleGrid aGrid, ScaleGrid bGrid, int chunk,
                        List<KernelParam> params) {
        boolean uniformB = uniformBScale(problem, blockN);
        String constants = """
                constexpr int M = %d, N = %d, K = %d, LDC = N;
                constexpr int BM = %d, BN = %d, BK = %d, STAGES = %d, CHUNK = %d, GROUP_M = %d;
                constexpr int THREADS = %d, CONSUMERS = %d, SCALE_WARPS = 3;
                constexpr int MT = 1, NT = BN / 8;  // a consumer warp's 16 x BN share, as 16x8 accumulator tiles
                constexpr int TILES_M = (M + BM - 1) / BM, TILES_N = (N + BN - 1) / BN;
                constexpr int K_BLOCKS = (K + BK - 1) / BK;
                constexpr int CHUNKS = BK / CHUNK, LAST_CHUNKS = (K - (K_BLOCKS - 1) * BK + CHUNK - 1) / CHUNK;
                constexpr int A_STAGE_BYTES = BM * BK, STAGE_BYTES = (BM + BN) * BK;
                // Scale grids (dev.octet.numerics.ScaleGrid): the index of the scale of row r at K position k. Column-major
                // (a weight gradient's operands, grouped along the tokens), one K block's scales of neighbouring rows
                // lie side by side, so the scale warps' loads of a tile's rows coalesce.
                %s
                %s
                constexpr bool B_SCALE_PER_COLUMN = %b;  // else one B scale per tile and chunk
                // The scale ring: per stage and chunk, A's BM row scales then B's SB_WIDTH (1 or BN).
                constexpr int SB_WIDTH = B_SCALE_PER_COLUMN ? BN : 1, SCALE_CHUNK = BM + SB_WIDTH;
                // Blocks per cluster: with 2, a pair computes column tiles 2u and 2u+1 of one row tile (the work unit u)
                // and each block loads half of the A box into both blocks' stage by TMA multicast.
                constexpr int CLUSTER = %d;
                constexpr int UNITS_N = (TILES_N + CLUSTER - 1) / CLUSTER, UNITS = TILES_M * UNITS_N;
                // Split K: work w is unit w %% UNITS over the K blocks of range w / UNITS (KB_SPLIT each, the last the rest).
                constexpr int SPLITS = %d, KB_SPLIT = (K_BLOCKS + SPLITS - 1) / SPLITS, WORK = UNITS * SPLITS;
                """.formatted(problem.m(), problem.n(), problem.k(), BLOCK_M, blockN, BLOCK_K, stages, chunk, GROUP_M,
                THREADS, CONSUMERS, ScaleIndex.function("a_scale_index", aGrid), ScaleIndex.function("b_scale_index", bGrid),
                !uniformB, cluster, splits)
                + TmaStoreEpilogue.constants(problem, blockN, splits);
        String bScales = uniformB ? """
                                        s_lo[set] = __fmul_rn(chunk_scales[warp_row + group], chunk_scales[BM]);
                                        s_hi[set] = __fmul_rn(chunk_scales[warp_row + group + 8], chunk_scales[BM]);
                                        b_scale_chunk[set] = nullptr;
                """ : """
                                        s_lo[set] = chunk_scales[warp_row + group];
                                        s_hi[set] = chunk_scales[warp_row + group + 8];
                                        b_scale_chunk[set] = chunk_scales + BM;
                """;
        String promote = uniformB ? """
                        acc[0][j][0] = __fmaf_rn(part[j][0], s_lo, acc[0][j][0]);
                        acc[0][j][1] = __fmaf_rn(part[j][1], s_lo, acc[0][j][1]);
                        acc[0][j][2] = __fmaf_rn(part[j][2], s_hi, acc[0][j][2]);
                        acc[0][j][3] = __fmaf_rn(part[j][3], s_hi, acc[0][j][3]);
                """ : """
                        const float2 sbc = *(const float2*) (b_scale_chunk + j * 8 + (lane % 4) * 2);
                        acc[0][j][0] = __fmaf_rn(part[j][0], __fmul_rn(s_lo, sbc.x), acc[0][j][0]);
                        acc[0][j][1] = __fmaf_rn(part[j][1], __fmul_rn(s_lo, sbc.y), acc[0][j][1]);
                        acc[0][j][2] = __fmaf_rn(part[j][2], __fmul_rn(s_hi, sbc.x), acc[0][j][2]);
                        acc[0][j][3] = __fmaf_rn(part[j][3], __fmul_rn(s_hi, sbc.y), acc[0][j][3]);
                """;
        return constants + "\n" + wgmmaFunction(a, b) + "\n" + WarpSpecializedGemm.TILE_ORDER + """

                // Frees stage s for the producers: in every block of the cluster, since each writes into all of them.
                __device__ __forceinline__ void release_stage(unsigned long long* empty_s) {
                    if (CLUSTER == 1) {
                        mbar_arrive(empty_s);
                    } else {
                        for (unsigned r = 0; r < CLUSTER; ++r) mbar_arrive_cluster(empty_s, r);
                    }
                }
                %8$s
                extern "C" __global__ void __launch_bounds__(THREADS, 1) %6$s%1$s%2$s {
                    extern __shared__ __align__(1024) unsigned char smem_raw[];
                    unsigned char* smem = align_shared_1024(smem_raw);
                    unsigned long long* full = (unsigned long long*) (smem + STAGES * STAGE_BYTES + EPILOGUE_BYTES);
                    unsigned long long* empty = full + STAGES;
                    unsigned long long* scales_full = empty + STAGES;
                    // Completes when every consumer warp is done; late_flag says whether one gave up waiting.
                    unsigned long long* consumers_done = scales_full + STAGES;
                    int* late_flag = (int*) (consumers_done + 1);
                    float* scale_ring = (float*) (consumers_done + 2);  // [STAGES][CHUNKS][SCALE_CHUNK]
                    const int warpgroup = threadIdx.x / 128;
                    const unsigned rank = CLUSTER == 1 ? 0 : cluster_cta_rank();
                %10$s
                    if (threadIdx.x == 0) {
                        for (int s = 0; s < STAGES; ++s) {
                            mbar_init(&full[s], 1);
                            mbar_init(&empty[s], CLUSTER * CONSUMERS * 4);  // one arrival per consumer warp of the cluster
                            mbar_init(&scales_full[s], 1);
                        }
                        mbar_init(consumers_done, CONSUMERS * 4);
                        *late_flag = 0;
                        mbar_init_fence();
                    }
                    if (CLUSTER == 1) __syncthreads(); else cluster_sync();  // the other block's barriers exist too

                    if (warpgroup == 0) {
                        %3$s
                        if (threadIdx.x == 0) {
                            prefetch_tensor_map(&a);
                            prefetch_tensor_map(&b);
                            int phase = 0;
                            for (int w = blockIdx.x / CLUSTER; w < WORK; w += gridDim.x / CLUSTER) {
                                const int u = w %% UNITS, kb_begin = w / UNITS * KB_SPLIT, kb_end = min(K_BLOCKS, kb_begin + KB_SPLIT);
                                int tm, tn;
                                tile_of(u, rank, tm, tn);
                                for (int kb0 = kb_begin; kb0 < kb_end; kb0 += STAGES, phase ^= 1) {
                                    #pragma unroll
                                    for (int s = 0; s < STAGES; ++s) {
                                        const int kb = kb0 + s;
                                        mbar_wait(&empty[s], phase ^ 1);  // with clusters: free in every block
                                        if (kb >= kb_end) {
                                            mbar_arrive(&full[s]);  // past the tile's K: an empty stage, handed straight on
                                            continue;
                                        }
                                        mbar_arrive_expect_tx(&full[s], STAGE_BYTES);  // with clusters: every A part lands here too
                                        if (CLUSTER == 1) {
                                            tma_load_2d(smem + s * STAGE_BYTES, &a, kb * BK, tm * BM, &full[s]);
                                        } else {
                                            tma_load_2d_multicast(smem + s * STAGE_BYTES + rank * (BM / CLUSTER) * BK, &a, kb * BK,
                                                                  tm * BM + rank * (BM / CLUSTER), &full[s], (1 << CLUSTER) - 1);
                                        }
                                        tma_load_2d(smem + s * STAGE_BYTES + A_STAGE_BYTES, &b, kb * BK, min(tn, TILES_N - 1) * BN, &full[s]);
                                    }
                                }
                            }
                            mbar_wait(consumers_done, 0);
                            if (*(volatile int*) late_flag) __trap();
                        } else if (threadIdx.x >= 32) {
                            // The scale warps (the producer warpgroup's other three): the scales of each stage's chunks into
                            // the scale ring, A's for the tile's rows and B's for its columns (or the one of the tile), as the
                            // codes go into the stage. Each stage waits a round trip to L2 for its scales, which takes longer
                            // than the consumers take for a stage: the three warps take the stages in turn, so that three
                            // stages' loads are in flight at once.
                            const int lane = threadIdx.x %% 32, scale_warp = threadIdx.x / 32 - 1;
                            int phase = 0;
                            for (int w = blockIdx.x / CLUSTER; w < WORK; w += gridDim.x / CLUSTER) {
                                const int u = w %% UNITS, kb_begin = w / UNITS * KB_SPLIT, kb_end = min(K_BLOCKS, kb_begin + KB_SPLIT);
                                int tm, tn;
                                tile_of(u, rank, tm, tn);
                                for (int kb0 = kb_begin; kb0 < kb_end; kb0 += STAGES, phase ^= 1) {
                                    #pragma unroll
                                    for (int s = 0; s < STAGES; ++s) {
                                        if (s %% SCALE_WARPS != scale_warp) continue;
                                        const int kb = kb0 + s;
                                        const int chunks = kb >= kb_end ? 0 : kb == K_BLOCKS - 1 ? LAST_CHUNKS : CHUNKS;
                                        mbar_wait(&empty[s], phase ^ 1);
                                        for (int c = 0; c < chunks; ++c) {
                                            float* ring = scale_ring + (s * CHUNKS + c) * SCALE_CHUNK;
                                            const int k0 = kb * BK + c * CHUNK;
                                            for (int r = lane; r < BM; r += 32)
                                                ring[r] = __ldg(a_scales + a_scale_index(min(tm * BM + r, M - 1), k0));
                                            for (int n = lane; n < SB_WIDTH; n += 32)
                                                ring[BM + n] = __ldg(b_scales + b_scale_index(min(tn * BN + n, N - 1), k0));
                                        }
                                        __syncwarp();
                                        if (lane == 0) mbar_arrive(&scales_full[s]);
                                    }
                                }
                            }
                        }
                    } else {
                        %4$s
                        // Read from lane 0 so that the compiler knows it is warp-uniform: the wgmma descriptors derived
                        // from it can then live in uniform registers instead of being moved there before every wgmma.
                        const int consumer = __shfl_sync(0xffffffffu, warpgroup - 1, 0);
                        const int warp = (threadIdx.x / 32) %% 4, lane = threadIdx.x %% 32;
                        const int group = lane / 4, quad = lane %% 4;  // the m64nNk32 accumulator layout, as mma.sync's m16n8
                        const int warp_row = consumer * 64 + warp * 16;
                        // A lost copy must fail the launch, not hang it: see mbar_wait_or_late.
                        bool late = false;
                        // The ring's phase, and the descriptors of stage 0's operands (a stage's are these plus its
                        // offset / 16: the ring lies below 256 KiB, so the 14-bit address field never carries).
                        int phase = 0;
                        const unsigned long long desc_a0 = wgmma_desc_k128b(smem_u32(smem) + consumer * 64 * BK);
                        const unsigned long long desc_b0 = wgmma_desc_k128b(smem_u32(smem) + A_STAGE_BYTES);
                        for (int w = blockIdx.x / CLUSTER; w < WORK; w += gridDim.x / CLUSTER) {
                            const int u = w %% UNITS, kb_begin = w / UNITS * KB_SPLIT, kb_end = min(K_BLOCKS, kb_begin + KB_SPLIT);
                            int tm, tn;
                            tile_of(u, rank, tm, tn);
                            const int row0 = tm * BM, col0 = tn * BN;
%7$s
                %5$s
                        }
                        %9$s
                        // The producer's thread traps for a late consumer: a trap in this branch would cost the wgmmas
                        // their registers.
                        if (late) *(volatile int*) late_flag = 1;
                        __syncwarp();
                        if (lane == 0) mbar_arrive(consumers_done);
                    }
                    // No block leaves while the other block of its cluster may still arrive on its barriers.
                    if (CLUSTER > 1) {
                        __syncwarp();  // the producer's idle lanes and its issuing thread meet first: the barrier is warp-aligned
                        cluster_sync();
                    }
                }
                """.formatted(name, CudaKernel.signature(params),
                HopperPrelude.setMaxRegisters(false, WarpSpecializedGemm.PRODUCER_REGISTERS),
                HopperPrelude.setMaxRegisters(true, WarpSpecializedGemm.CONSUMER_REGISTERS),
                TmaStoreEpilogue.source(problem, blockN, splits).indent(8),
                cluster > 1 ? "__cluster_dims__(" + cluster + ", 1, 1) " : "",
                TmaStoreEpilogue.tileStart(problem, blockN, splits).indent(28)
                        + kLoop(bScales, TmaStoreEpilogue.prefetchResidual(problem, blockN, splits, "stage == 0 && c == 0 && kb0 == kb_begin")),
                promoteFunction(promote), TmaStoreEpilogue.DRAIN,
                TmaStoreEpilogue.barriers(problem, blockN, splits).indent(4).stripTrailing());
    }

    /**
     * The K loop of a tile, two chunks in flight per consumer: chunk i+1's wgmmas are issued into the second set of
     * partial sums before chunk i's are waited for and promoted, so the tensor cores hold this consumer's next
     * group while it promotes (with one set, the consumer's wgmma wait, promotion and barrier waits left the tensor
     * pipe idle between its groups: docs/benchmarks.md). A ring turn is unrolled, so that every stage's barriers,
     * descriptors and partial-sum set (its position in the turn modulo 2) are constants. ptxas serialises every
     * wgmma of the kernel (C7514) if any path could read a set whose group is still in flight: a group pending across
     * a loop's back edge or out of a break counts as such, so no group outlives its turn, and chunks that do not run
     * (past the tile's K) are skipped by branches that wait for everything instead of by breaks. {@code prefetch} is
     * placed after each chunk's commit and runs for the tile's first chunk only ({@link TmaStoreEpilogue#prefetchResidual}).
     */
    private static String kLoop(String bScales, String prefetch) {
        return """
                            float acc[MT][NT][4];   // promoted sums
                            float part[2][NT][4];   // two chunks' sums, written by the tensor cores
                            float s_lo[2], s_hi[2]; // the scales of the chunk in each set (with B per column: A's only)
                            const float* b_scale_chunk[2];
                            #pragma unroll
                            for (int j = 0; j < NT; ++j)
                                #pragma unroll
                                for (int e = 0; e < 4; ++e) acc[0][j][e] = 0.0f;
                            for (int kb0 = kb_begin; kb0 < kb_end; kb0 += STAGES, phase ^= 1) {
                                #pragma unroll
                                for (int stage = 0; stage < STAGES; ++stage) {
                                    const int kb = kb0 + stage;
                                    const int chunks = kb >= kb_end ? 0 : kb == K_BLOCKS - 1 ? LAST_CHUNKS : CHUNKS;
                                    const unsigned stage_offset = (unsigned) (stage * STAGE_BYTES) >> 4;  // in descriptor units
                                    mbar_wait_or_late(&full[stage], phase, late);
                                    mbar_wait_or_late(&scales_full[stage], phase, late);
                                    if (chunks == 0) {  // past the tile's K: the stage came empty and goes straight back
                                        __syncwarp();
                                        if (lane == 0) release_stage(&empty[stage]);
                                    }
                                    #pragma unroll
                                    for (int c = 0; c < CHUNKS; ++c) {
                                        const int set = (stage * CHUNKS + c) & 1, prev = set ^ 1;
                                        if (c >= chunks) {
                                            wgmma_wait<0>();  // nothing is in flight here (the turn's chunks past K come last); for ptxas
                                            continue;
                                        }
                                        const float* chunk_scales = scale_ring + (stage * CHUNKS + c) * SCALE_CHUNK;
                %1$s
                                        #pragma unroll
                                        for (int j = 0; j < NT; ++j)
                                            #pragma unroll
                                            for (int e = 0; e < 4; ++e) fence_register(part[set][j][e]);
                                        wgmma_fence();
                                        #pragma unroll
                                        for (int w = 0; w < CHUNK / 32; ++w) {
                                            const unsigned offset = stage_offset + (c * CHUNK + w * 32) / 16;  // 32 bytes along the swizzled row
                                            wgmma_m64k32(part[set], desc_a0 + offset, desc_b0 + offset, w > 0);
                                        }
                                        wgmma_commit();
                %2$s
                                        if (stage > 0 || c > 0) {  // the chunk before, in this turn (the last stage's if c == 0)
                                            wgmma_wait<1>();
                                            promote_chunk(acc, part[prev], s_lo[prev], s_hi[prev], b_scale_chunk[prev],
                                                          c == 0 ? &empty[stage - 1] : nullptr, lane);
                                        }
                                        if (kb == kb_end - 1 && c == chunks - 1) {  // the tile's last chunk
                                            wgmma_wait<0>();
                                            promote_chunk(acc, part[set], s_lo[set], s_hi[set], b_scale_chunk[set], &empty[stage], lane);
                                        }
                                    }
                                }
                                // The turn's last chunk, unless it was the tile's last (promoted above).
                                wgmma_wait<0>();
                                if (kb0 + STAGES < kb_end) {
                                    constexpr int LAST_SET = (STAGES * CHUNKS - 1) & 1;
                                    promote_chunk(acc, part[LAST_SET], s_lo[LAST_SET], s_hi[LAST_SET], b_scale_chunk[LAST_SET],
                                                  &empty[STAGES - 1], lane);
                                }
                            }
                """.formatted(bScales, prefetch.indent(40).stripTrailing());
    }

    /**
     * {@code promote_chunk(acc, part, s_lo, s_hi, b_scale_chunk, empty_s, lane)}: adds a finished chunk's partial
     * sums into the FP32 accumulators, scaled by sA·sB, and frees the chunk's stage when {@code empty_s} is given (its
     * last chunk): before the promotion where the codes were all it read, after it where B's column scales are read
     * from the stage's scale ring.
     */
    private static String promoteFunction(String promote) {
        return """
                __device__ __forceinline__ void promote_chunk(float (&acc)[MT][NT][4], float (&part)[NT][4], float s_lo, float s_hi,
                                                              const float* b_scale_chunk, unsigned long long* empty_s, int lane) {
                    #pragma unroll
                    for (int j = 0; j < NT; ++j)
                        #pragma unroll
                        for (int e = 0; e < 4; ++e) fence_register(part[j][e]);
                    if (!B_SCALE_PER_COLUMN && empty_s != nullptr && lane == 0) release_stage(empty_s);
                    #pragma unroll
                    for (int j = 0; j < NT; ++j) {
                %s    }
                    if (B_SCALE_PER_COLUMN && empty_s != nullptr) {
                        __syncwarp();
                        if (lane == 0) release_stage(empty_s);
                    }
                }
                """.formatted(promote);
    }

    /** {@code wgmma_m64k32(d, descA, descB, accumulate)}: one m64n{blockN}k32 into the NT x 4 accumulators. */
    private String wgmmaFunction(GemmOperand.Fp8 a, GemmOperand.Fp8 b) {
        String types = "k32.f32." + a.dtype().irName() + "." + b.dtype().irName();
        return WarpSpecializedGemm.wgmmaFunction("wgmma_m64k32", blockN, types, "1, 1");
    }

    private GemmOperand.Fp8 aOperand() {
        return (GemmOperand.Fp8) problem.a();
    }

    private GemmOperand.Fp8 bOperand() {
        return (GemmOperand.Fp8) problem.b();
    }
}
