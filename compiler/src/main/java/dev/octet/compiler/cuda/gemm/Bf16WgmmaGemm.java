package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.HopperPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.TensorMapView;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * BF16 GEMM for Hopper (sm_90a): {@code wgmma.mma_async} m64n{blockN}k16 with FP32 accumulation, from shared
 * memory filled by TMA, each operand {@link OperandLayout#K_MAJOR} or {@link OperandLayout#MN_MAJOR} (the tensor
 * cores read either: the wgmma's transpose bits), so the LM head's and the BF16 recipe's backward GEMMs read W,
 * dY and X where they lie. Oracle: dev.octet.cpu.ops.Linear (double accumulation; the FP32 sums differ by
 * rounding only).
 *
 * <p>Structure as {@link Fp8WgmmaGemm}'s ({@link WarpSpecializedGemm}): a persistent block per SM, a producer
 * warpgroup whose one thread fills a ring of {@code stages} stages of {@code 128 × 64} of A and
 * {@code blockN × 64} of B (128-byte swizzle), two consumer warpgroups of 64 rows. There is no promotion: a
 * consumer issues a K block's four wgmmas as one group, lets it run while it waits for the next stage, and
 * frees a stage once the group after it has been issued ({@code wgmma.wait_group 1}), so the tensor cores
 * always have the next group queued. The epilogue is {@link MmaGemmSource#epilogue}'s, from registers.
 *
 * <p>Shared-memory layouts: a K-major operand is one box of {@code rows × 64} (a 128-byte row per operand row);
 * an MN-major one is panels of {@code 64 (K) × 64 (rows)}, 8 KiB apart, one box each. TMA zero-fills past the
 * edges, so any M, N and K run; the tensor maps need 16-byte row strides, i.e. each operand's row pitch a
 * multiple of 8 elements ({@link #supports}; other shapes take {@link Bf16MmaGemm}). K is split for weight
 * gradients with few tiles as {@link Fp8WgmmaGemm}'s is.
 *
 * <p>Parameters: {@code a} and {@code b} as tensor maps over the BF16 operands as they lie ({@code [M,K]} or
 * {@code [K,M]}; {@code [N,K]} or {@code [K,N]}), then {@code [bias], [residual], c} as
 * {@link MmaGemmSource#epilogueParams} lists them, or with split K {@code partials} (f32 {@code [splits, M, N]}).
 */
public record Bf16WgmmaGemm(GemmProblem problem, int blockN, int stages, int splits) implements GemmKernel {
    static final int BLOCK_M = WarpSpecializedGemm.BLOCK_M, BLOCK_K = 64, WGMMA_K = 16;
    /** Elements of one 128-byte swizzled row: the width of an MN-major panel. */
    static final int PANEL = 64;

    public Bf16WgmmaGemm {
        Objects.requireNonNull(problem, "problem");
        if (!supports(problem)) {
            throw new IllegalArgumentException("Bf16WgmmaGemm cannot run " + problem + ": " + whyNot(problem));
        }
        if (blockN != 64 && blockN != 128 && blockN != 256) {
            throw new IllegalArgumentException("blockN must be 64, 128 or 256, not " + blockN);
        }
        // Before the shared memory: a split's partial sums are staged as FP32, which may not fit where C's type did.
        WarpSpecializedGemm.checkSplits(problem, kBlocks(problem), splits, false);
        if (stages < 2 || sharedBytes(problem, blockN, stages, splits) > WarpSpecializedGemm.SHARED_LIMIT) {
            throw new IllegalArgumentException(stages + " stages of 128x" + blockN + "x64 need " + sharedBytes(problem, blockN, stages, splits)
                    + " bytes of shared memory; at most " + WarpSpecializedGemm.SHARED_LIMIT);
        }
    }

    /** Without split K. */
    public Bf16WgmmaGemm(GemmProblem problem, int blockN, int stages) {
        this(problem, blockN, stages, 1);
    }

    /** This kernel with K split {@code ways} ways ({@link Fp8WgmmaGemm} says how). */
    public Bf16WgmmaGemm withSplits(int ways) {
        return new Bf16WgmmaGemm(problem, blockN, stages, ways);
    }

    static int kBlocks(GemmProblem problem) {
        return Math.ceilDiv(problem.k(), BLOCK_K);
    }

    /** Whether this template runs {@code problem}. */
    public static boolean supports(GemmProblem problem) {
        return whyNot(problem).isEmpty();
    }

    private static String whyNot(GemmProblem problem) {
        if (!(problem.a() instanceof GemmOperand.Bf16 a) || !(problem.b() instanceof GemmOperand.Bf16 b)) {
            return "operands are not BF16";
        }
        String inner = pitchProblem("A", problem.pitches().a());
        return inner.isEmpty() ? pitchProblem("B", problem.pitches().b()) : inner;
    }

    /** A tensor map needs rows that start on 16 bytes: the operand's row pitch a multiple of 8 elements. */
    private static String pitchProblem(String operand, int pitch) {
        return pitch % 8 == 0 ? "" : operand + "'s rows lie " + pitch + " elements apart, not a multiple of 8"
                + " (TMA reads rows that start on 16 bytes)";
    }

    /**
     * Column tiles of 256 where that still gives every SM a tile (halves A's reloads), else 128, or 64 for
     * narrow outputs; as many stages (up to 8) as fit.
     */
    public static Bf16WgmmaGemm of(GemmProblem problem) {
        int rowTiles = Math.ceilDiv(problem.m(), BLOCK_M);
        int blockN = problem.n() <= 64 ? 64
                : problem.n() > 128 && (long) rowTiles * Math.ceilDiv(problem.n(), 256) >= GemmTileHeuristic.SM_COUNT ? 256
                : 128;
        Bf16WgmmaGemm unsplit = withTiles(problem, blockN);
        // ~450 TFLOP/s a K block's products ran at in the H200's BF16 weight gradients
        return unsplit.withSplits(WarpSpecializedGemm.chosenSplits(problem, unsplit.tiles(), kBlocks(problem),
                2.0 * BLOCK_M * blockN * BLOCK_K / 450e12));
    }

    /** Column tiles of {@code blockN} and as many stages (up to 8) as fit in shared memory. */
    public static Bf16WgmmaGemm withTiles(GemmProblem problem, int blockN) {
        int stages = 2;
        while (stages < 8 && sharedBytes(problem, blockN, stages + 1, 1) <= WarpSpecializedGemm.SHARED_LIMIT) {
            stages++;
        }
        return new Bf16WgmmaGemm(problem, blockN, stages);
    }

    static int sharedBytes(GemmProblem problem, int blockN, int stages, int splits) {
        // The ring, the output tile's staging for TMA stores, 1 KiB to align both to the 128-byte swizzle's 1024-byte
        // period, two mbarriers per stage and a flag for a consumer's timed-out wait.
        return stages * (BLOCK_M + blockN) * BLOCK_K * 2 + TmaStoreEpilogue.sharedBytes(problem, blockN, splits) + 1024
                + 2 * 8 * stages + 16;
    }

    public int tiles() {
        return WarpSpecializedGemm.tiles(problem, blockN);
    }

    /** Column tile and K split of this kernel (no clusters). */
    public GemmSchedule schedule() {
        return new GemmSchedule(blockN, 1, splits);
    }

    /** This template with {@code schedule} for {@code problem} (as many stages as fit), or nothing where the template cannot run it so. */
    static Optional<Bf16WgmmaGemm> build(GemmProblem problem, GemmSchedule schedule) {
        if (schedule.cluster() != 1) {
            return Optional.empty();
        }
        try {
            return Optional.of(withTiles(problem, schedule.blockN()).withSplits(schedule.splits()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** What the kernel computes, without how it is scheduled: the key of {@link GemmSchedules}. */
    public String problemKey() {
        return "bf16_wgmma_m" + problem.m() + "_n" + problem.n() + "_k" + problem.k()
                + "_a_" + layoutA().tag() + "_b_" + layoutB().tag() + "_" + problem.epilogue().tag() + problem.pitchTag();
    }

    @Override
    public String kernelName() {
        return problemKey() + "_t128x" + blockN + "_s" + stages + (splits > 1 ? "_split" + splits : "");
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = new ArrayList<>(List.of(
                KernelParam.tensorMapIn("a", DType.BF16, view(layoutA(), problem.m(), problem.pitches().a(), BLOCK_M)),
                KernelParam.tensorMapIn("b", DType.BF16, view(layoutB(), problem.n(), problem.pitches().b(), blockN))));
        params.addAll(TmaStoreEpilogue.params(problem, blockN, splits));
        String name = kernelName();
        int sharedBytes = sharedBytes(problem, blockN, stages, splits);
        String description = """
                %s
                C[M,N] = A[M,K] · B[N,K]ᵀ, M=%d N=%d K=%d, BF16 on Hopper tensor cores (wgmma m64n%dk16), FP32 accumulation.
                A: bf16 %s. B: bf16 %s. Both read by TMA with the 128-byte swizzle.
                %s.%s
                Tiles 128x%dx64, %d tiles on a persistent grid of %d blocks; 1 producer + %d consumer warpgroups;
                %d TMA stages, %d bytes of dynamic shared memory.
                Oracle: dev.octet.cpu.ops.Linear.""".formatted(
                name, problem.m(), problem.n(), problem.k(), blockN, Bf16MmaGemm.describe(layoutA(), "M"),
                Bf16MmaGemm.describe(layoutB(), "N"), MmaGemmSource.describe(problem.epilogue()), SplitKReduce.describeSplit(splits),
                blockN, tiles(),
                gridBlocks(), WarpSpecializedGemm.CONSUMERS, stages, sharedBytes);
        String source = CudaPrelude.kernelSource(description, HopperPrelude.source() + "\n" + body(name, params));
        return new CudaKernel(name, source, LaunchGeometry.linear(gridBlocks(), WarpSpecializedGemm.THREADS, sharedBytes),
                params);
    }

    /**
     * The tensor map over an operand with {@code rows} rows whose stored rows lie {@code pitch} apart, in boxes of
     * one stage's rows (K-major) or one panel.
     */
    private TensorMapView view(OperandLayout layout, int rows, int pitch, int tileRows) {
        return layout == OperandLayout.K_MAJOR
                ? new TensorMapView(rows, problem.k(), pitch, tileRows, BLOCK_K, TensorMapView.Swizzle.B128)
                : new TensorMapView(problem.k(), rows, pitch, BLOCK_K, PANEL, TensorMapView.Swizzle.B128);
    }

    /** Blocks of the persistent grid: at most one per SM. */
    private int gridBlocks() {
        return Math.min(tiles() * splits, GemmTileHeuristic.SM_COUNT);
    }

    private String body(String name, List<KernelParam> params) {
        boolean aMn = layoutA() == OperandLayout.MN_MAJOR, bMn = layoutB() == OperandLayout.MN_MAJOR;
        String constants = """
                constexpr int M = %d, N = %d, K = %d, LDC = %d;
                constexpr int BM = %d, BN = %d, BK = %d, STAGES = %d, GROUP_M = %d;
                constexpr int THREADS = %d, CONSUMERS = %d;
                constexpr int MT = 1, NT = BN / 8;  // a consumer warp's 16 x BN share, as 16x8 accumulator tiles
                constexpr int TILES_M = (M + BM - 1) / BM, TILES_N = (N + BN - 1) / BN;
                constexpr int K_BLOCKS = (K + BK - 1) / BK;
                constexpr int A_STAGE_BYTES = BM * BK * 2, STAGE_BYTES = (BM + BN) * BK * 2;
                // An MN-major operand lies in panels of BK rows of K by 64 of its rows (128-byte swizzled rows).
                constexpr int PANEL = %d, PANEL_BYTES = BK * PANEL * 2;
                constexpr bool A_MN_MAJOR = %b, B_MN_MAJOR = %b;
                // Descriptor steps (16-byte units) per 16 of K: 32 bytes along a K-major row, 16 rows of an MN-major panel.
                constexpr unsigned A_K_STEP = A_MN_MAJOR ? 16 * 128 / 16 : 32 / 16;
                constexpr unsigned B_K_STEP = B_MN_MAJOR ? 16 * 128 / 16 : 32 / 16;
                constexpr int CLUSTER = 1, UNITS_N = TILES_N, UNITS = TILES_M * UNITS_N;
                // Split K: work w is unit w %% UNITS over the K blocks of range w / UNITS (KB_SPLIT each, the last the rest).
                constexpr int SPLITS = %d, KB_SPLIT = (K_BLOCKS + SPLITS - 1) / SPLITS, WORK = UNITS * SPLITS;
                """.formatted(problem.m(), problem.n(), problem.k(), problem.pitches().c(), BLOCK_M, blockN, BLOCK_K, stages,
                WarpSpecializedGemm.GROUP_M, WarpSpecializedGemm.THREADS, WarpSpecializedGemm.CONSUMERS, PANEL, aMn, bMn,
                splits) + TmaStoreEpilogue.constants(problem, blockN, splits);
        return constants + "\n" + wgmmaFunction(aMn, bMn) + "\n" + WarpSpecializedGemm.TILE_ORDER + """

                // One operand's share of a stage: a K-major box of `rows` x BK, or rows / PANEL MN-major panels of BK x PANEL.
                template <bool MN_MAJOR, int ROWS>
                __device__ __forceinline__ void load_operand(unsigned char* dst, const tensor_map_t* map, int row0, int k0,
                                                             unsigned long long* bar) {
                    if (MN_MAJOR) {
                        #pragma unroll
                        for (int p = 0; p < ROWS / PANEL; ++p) tma_load_2d(dst + p * PANEL_BYTES, map, row0 + p * PANEL, k0, bar);
                    } else {
                        tma_load_2d(dst, map, k0, row0, bar);
                    }
                }

                extern "C" __global__ void __launch_bounds__(THREADS, 1) %1$s%2$s {
                    extern __shared__ __align__(1024) unsigned char smem_raw[];
                    unsigned char* smem = align_shared_1024(smem_raw);
                    unsigned long long* full = (unsigned long long*) (smem + STAGES * STAGE_BYTES + EPILOGUE_BYTES);
                    unsigned long long* empty = full + STAGES;
                    int* failed = (int*) (empty + STAGES);  // a consumer's wait timed out
                    const int warpgroup = threadIdx.x / 128;
                %7$s
                    if (threadIdx.x == 0) {
                        for (int s = 0; s < STAGES; ++s) {
                            mbar_init(&full[s], 1);
                            mbar_init(&empty[s], CONSUMERS * 4);  // one arrival per consumer warp
                        }
                        *failed = 0;
                        mbar_init_fence();
                    }
                    __syncthreads();

                    if (warpgroup == 0) {
                        %3$s
                        if (threadIdx.x == 0) {
                            prefetch_tensor_map(&a);
                            prefetch_tensor_map(&b);
                            int stage = 0, phase = 0;
                            for (int w = blockIdx.x; w < WORK; w += gridDim.x) {
                                const int u = w %% UNITS, kb_begin = w / UNITS * KB_SPLIT, kb_end = min(K_BLOCKS, kb_begin + KB_SPLIT);
                                int tm, tn;
                                tile_of(u, 0, tm, tn);
                                for (int kb = kb_begin; kb < kb_end; ++kb) {
                                    mbar_wait(&empty[stage], phase ^ 1);
                                    mbar_arrive_expect_tx(&full[stage], STAGE_BYTES);
                                    unsigned char* dst = smem + stage * STAGE_BYTES;
                                    load_operand<A_MN_MAJOR, BM>(dst, &a, tm * BM, kb * BK, &full[stage]);
                                    load_operand<B_MN_MAJOR, BN>(dst + A_STAGE_BYTES, &b, tn * BN, kb * BK, &full[stage]);
                                    if (++stage == STAGES) stage = 0, phase ^= 1;
                                }
                            }
                        }
                    } else {
                        %4$s
                        // Read from lane 0 so that the compiler knows it is warp-uniform (descriptors in uniform registers).
                        const int consumer = __shfl_sync(0xffffffffu, warpgroup - 1, 0);
                        const int warp = (threadIdx.x / 32) %% 4, lane = threadIdx.x %% 32;
                        const int group = lane / 4, quad = lane %% 4;  // the m64nNk16 accumulator layout, as mma.sync's m16n8
                        const int warp_row = consumer * 64 + warp * 16;
                        // Stage 0's descriptors; a stage's are these plus its offset / 16 (the ring lies below 256 KiB,
                        // so the 14-bit address field never carries). A consumer's 64 rows of A are 64 K-major rows or
                        // one MN-major panel.
                        const unsigned a0 = smem_u32(smem) + consumer * (A_MN_MAJOR ? PANEL_BYTES : 64 * 128);
                        const unsigned long long desc_a0 = A_MN_MAJOR ? wgmma_desc_mn128b(a0, PANEL_BYTES) : wgmma_desc_k128b(a0);
                        const unsigned b0 = smem_u32(smem) + A_STAGE_BYTES;
                        const unsigned long long desc_b0 = B_MN_MAJOR ? wgmma_desc_mn128b(b0, PANEL_BYTES) : wgmma_desc_k128b(b0);
                        bool late = false;  // see mbar_wait_or_late: the accumulators are in flight across the waits
                        int stage = 0, phase = 0;
                        for (int w = blockIdx.x; w < WORK; w += gridDim.x) {
                            const int u = w %% UNITS, kb_begin = w / UNITS * KB_SPLIT, kb_end = min(K_BLOCKS, kb_begin + KB_SPLIT);
                            int tm, tn;
                            tile_of(u, 0, tm, tn);
                            const int row0 = tm * BM, col0 = tn * BN;
                %9$s
                            // Zeroed here rather than by the first wgmma's scale-d: ptxas (NVRTC 12.6) serialises the wgmmas
                            // (C7515) when the accumulators enter the pipeline undefined.
                            float acc[MT][NT][4];
                            #pragma unroll
                            for (int j = 0; j < NT; ++j)
                                #pragma unroll
                                for (int e = 0; e < 4; ++e) acc[0][j][e] = 0.0f;
                            int previous = -1;  // the stage of the group still running
                            for (int kb = kb_begin; kb < kb_end; ++kb) {
                                mbar_wait_or_late(&full[stage], phase, late);
                                const unsigned offset = (unsigned) (stage * STAGE_BYTES) >> 4;
                                #pragma unroll
                                for (int j = 0; j < NT; ++j)
                                    #pragma unroll
                                    for (int e = 0; e < 4; ++e) fence_register(acc[0][j][e]);
                                wgmma_fence();
                                #pragma unroll
                                for (int kk = 0; kk < BK / 16; ++kk)
                                    wgmma_m64k16(acc[0], desc_a0 + offset + kk * A_K_STEP, desc_b0 + offset + kk * B_K_STEP, 1);
                                wgmma_commit();
                %8$s
                                wgmma_wait<1>();  // the previous group is done: its stage may refill
                                #pragma unroll
                                for (int j = 0; j < NT; ++j)
                                    #pragma unroll
                                    for (int e = 0; e < 4; ++e) fence_register(acc[0][j][e]);
                                if (previous >= 0 && lane == 0) mbar_arrive(&empty[previous]);
                                previous = stage;
                                if (++stage == STAGES) stage = 0, phase ^= 1;
                            }
                            wgmma_wait<0>();
                            #pragma unroll
                            for (int j = 0; j < NT; ++j)
                                #pragma unroll
                                for (int e = 0; e < 4; ++e) fence_register(acc[0][j][e]);
                            if (lane == 0) mbar_arrive(&empty[previous]);
                %5$s
                        }
                        %6$s
                        if (late) *failed = 1;
                    }
                    // A thread without accumulators traps for a consumer whose wait timed out (a lost copy).
                    __syncthreads();
                    if (threadIdx.x == 0 && *(volatile int*) failed) __trap();
                }
                """.formatted(name, CudaKernel.signature(params),
                HopperPrelude.setMaxRegisters(false, WarpSpecializedGemm.PRODUCER_REGISTERS),
                HopperPrelude.setMaxRegisters(true, WarpSpecializedGemm.CONSUMER_REGISTERS),
                TmaStoreEpilogue.source(problem, blockN, splits).indent(8),
                TmaStoreEpilogue.DRAIN, TmaStoreEpilogue.barriers(problem, blockN, splits).indent(4).stripTrailing(),
                TmaStoreEpilogue.prefetchResidual(problem, blockN, splits, "kb == kb_begin").indent(16).stripTrailing(),
                TmaStoreEpilogue.tileStart(problem, blockN, splits).indent(12).stripTrailing());
    }

    /** {@code wgmma_m64k16(d, descA, descB, accumulate)}: one m64n{blockN}k16 into the NT x 4 accumulators. */
    private String wgmmaFunction(boolean aMn, boolean bMn) {
        // The last two immediates transpose A and B: 1 reads the operand MN-major.
        return WarpSpecializedGemm.wgmmaFunction("wgmma_m64k16", blockN, "k16.f32.bf16.bf16",
                "1, 1, " + (aMn ? 1 : 0) + ", " + (bMn ? 1 : 0));
    }

    private OperandLayout layoutA() {
        return ((GemmOperand.Bf16) problem.a()).layout();
    }

    private OperandLayout layoutB() {
        return ((GemmOperand.Bf16) problem.b()).layout();
    }
}
