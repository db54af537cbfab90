package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.TensorMapView;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * The epilogue of both Hopper GEMM templates ({@link Fp8WgmmaGemm}, {@link Bf16WgmmaGemm}): each consumer warpgroup
 * writes its 64 rows of the finished tile, with bias and residual applied as {@link MmaGemmSource#valueSteps}
 * computes them, into shared memory, and one of its threads hands them to TMA, which stores them (or, for an
 * accumulating epilogue, adds them into C with TMA reductions, so the kernel never reads C) while the consumers go
 * on to their next tile. Stores from registers, 4 bytes a thread, held both consumers, and the tensor cores with
 * them, for a fifth to a half of the FP8 kernel's time on the H200 (docs/benchmarks.md).
 *
 * <p>The staging: per consumer, boxes of 64 rows × 128 bytes, 128-byte swizzled as a TMA load of the box would lay
 * it out (a warp's writes then land on 32 different banks), right after the operand ring. Where TMA cannot address
 * the output (rows not a multiple of 16 bytes apart; with split K, a ragged M, whose last row tile would reach into
 * the next K range's slice), or the staging would cost more than {@link #MAX_STAGING_BYTES} of the ring, the
 * template's register epilogue ({@link MmaGemmSource#epilogue}) stores instead.
 *
 * <p>A BF16 residual ({@code c = bf16(acc) + residual}) comes in the same way it goes out: behind the tile's first
 * wgmmas one thread of each consumer waits until the previous tile's store has read the staging and has TMA load the
 * residual's rows into it, in the output's own box layout; the epilogue then reads each pair where it writes the
 * result. (Read from global memory by every thread, two bytes at a time, the residual made these kernels 1.2-3.8×
 * slower than the same GEMM without it on the H200: docs/benchmarks.md.)
 *
 * <p>The source uses the templates' shared names: constants M, N, LDC, BN, STAGES, STAGE_BYTES, CONSUMERS, MT, NT,
 * UNITS, and the consumer's {@code consumer, warp_row, group, quad, row0, col0, w, acc}.
 */
final class TmaStoreEpilogue {
    private TmaStoreEpilogue() {}

    static final int MAX_STAGING_BYTES = 64 * 1024;
    private static final int CONSUMER_ROWS = WarpSpecializedGemm.BLOCK_M / WarpSpecializedGemm.CONSUMERS;

    /** What the kernel writes: C's type, or FP32 partial sums with split K. */
    static DType output(GemmProblem problem, int splits) {
        return splits > 1 ? DType.F32 : problem.epilogue().output();
    }

    /** Whether the tile goes out through shared memory and TMA (else from registers). */
    static boolean applies(GemmProblem problem, int blockN, int splits) {
        int bytes = output(problem, splits).bytes();
        int pitch = splits > 1 ? problem.n() : problem.pitches().c();
        return (long) pitch * bytes % 16 == 0 && (splits == 1 || problem.m() % WarpSpecializedGemm.BLOCK_M == 0)
                && WarpSpecializedGemm.BLOCK_M * blockN * bytes <= MAX_STAGING_BYTES;
    }

    /**
     * Whether a tile that TMA does not store (an FP32 tile wider than the staging, as BF16's 128 × 256 weight-gradient
     * tiles) is added into an FP32 C by reductions from registers ({@code red.global.add.v2}, fire-and-forget, one
     * add per element as TMA's reduction would do) rather than read, added and stored: BF16's LM-head weight
     * gradient 1.26× faster on an H100. Where the staging fits, TMA's reductions stay: an FP8 128 × 128 weight
     * gradient adding from registers with the staging's 64 KiB as two more ring stages ran 4% slower
     * (docs/benchmarks.md, 2026-12-05).
     */
    static boolean reducesFromRegisters(GemmProblem problem, int blockN, int splits) {
        GemmEpilogue e = problem.epilogue();
        return splits == 1 && e.accumulate() && e.output() == DType.F32 && !e.bias() && !e.residual()
                && !applies(problem, blockN, splits);
    }

    /** Whether the residual arrives by TMA into the staging (a BF16 output stored by TMA). */
    static boolean stagesResidual(GemmProblem problem, int blockN, int splits) {
        GemmEpilogue e = problem.epilogue();
        return splits == 1 && e.residual() && e.output() == DType.BF16 && applies(problem, blockN, splits);
    }

    /**
     * Whether the bias goes through shared memory: when a tile starts, each consumer's threads copy the tile's BN
     * bias values (zero past N) into their BF16 copy beside the staging with {@code cp.async}, whose latency lies
     * under the tile's K loop, and the epilogue reads them there. Read from global memory element by element inside
     * the epilogue's guarded loop, the bias loads ran one after another: GEMMs with a bias ran at about half the rate
     * of the same GEMM without one (GPT-2's fc fprop 451 against 869 TFLOP/s).
     */
    static boolean stagesBias(GemmProblem problem, int blockN, int splits) {
        return splits == 1 && problem.epilogue().bias() && applies(problem, blockN, splits);
    }

    /**
     * Shared memory of the epilogue: the staged tile (none where the tile is stored from registers), then one
     * mbarrier per consumer where the residual is staged, then each consumer's BF16 bias where it is staged.
     */
    static int sharedBytes(GemmProblem problem, int blockN, int splits) {
        return biasOffset(problem, blockN, splits)
                + (stagesBias(problem, blockN, splits) ? WarpSpecializedGemm.CONSUMERS * blockN * 2 : 0);
    }

    /** Where the consumers' bias copies start: after the staging and the residual's mbarriers. */
    private static int biasOffset(GemmProblem problem, int blockN, int splits) {
        return stagingBytes(problem, blockN, splits) + (stagesResidual(problem, blockN, splits) ? 8 * WarpSpecializedGemm.CONSUMERS : 0);
    }

    /**
     * For the consumer code where a tile starts (after {@code row0, col0}): with a staged bias, this thread's copy of
     * a pair of the tile's bias values into the consumer's BF16 copy (the previous tile's epilogue has read it: its
     * last barrier is behind every read).
     */
    static String tileStart(GemmProblem problem, int blockN, int splits) {
        return stagesBias(problem, blockN, splits) ? """
                bf16_t* const bias_tile = (bf16_t*) (smem + STAGES * STAGE_BYTES + BIAS_OFFSET) + consumer * BN;
                if (threadIdx.x % 128 < BN / 2) {
                    const int col = col0 + 2 * (threadIdx.x % 128), inside = min(max(N - col, 0), 2);
                    cp_async_4(bias_tile + 2 * (threadIdx.x % 128), inside > 0 ? bias + col : bias, 2 * inside);
                }
                """ : "";
    }

    private static int stagingBytes(GemmProblem problem, int blockN, int splits) {
        return applies(problem, blockN, splits) ? WarpSpecializedGemm.BLOCK_M * blockN * output(problem, splits).bytes() : 0;
    }

    /**
     * The output parameters: {@code [bias], [residual], c} as {@link MmaGemmSource#epilogueParams} lists them, or
     * {@code partials} (FP32 {@code [splits, M, N]}) with split K; the written one as a tensor map where TMA stores
     * ({@code partials} then viewed as {@code [splits·M, N]}), read-write where TMA adds into it; a staged residual as
     * a tensor map in the same boxes.
     */
    static List<KernelParam> params(GemmProblem problem, int blockN, int splits) {
        boolean tma = applies(problem, blockN, splits);
        if (splits > 1) {
            return List.of(tma
                    ? KernelParam.tensorMapOut("partials", DType.F32, KernelParam.Access.WRITE,
                            view((long) splits * problem.m(), problem.n(), problem.n(), DType.F32))
                    : KernelParam.out("partials", DType.F32));
        }
        List<KernelParam> params = new ArrayList<>(MmaGemmSource.epilogueParams(problem.epilogue()));
        if (stagesResidual(problem, blockN, splits)) {
            params.set(params.size() - 2, KernelParam.tensorMapIn("residual", DType.BF16,
                    view(problem.m(), problem.n(), problem.pitches().c(), DType.BF16)));
        }
        if (tma) {
            GemmEpilogue e = problem.epilogue();
            params.set(params.size() - 1, KernelParam.tensorMapOut("c", e.output(),
                    e.accumulate() ? KernelParam.Access.READ_WRITE : KernelParam.Access.WRITE,
                    view(problem.m(), problem.n(), problem.pitches().c(), e.output())));
        }
        return List.copyOf(params);
    }

    /** The output as TMA writes it: boxes of one consumer's 64 rows × 128 bytes, 128-byte swizzle. */
    private static TensorMapView view(long rows, int cols, int pitch, DType type) {
        return new TensorMapView(rows, cols, pitch, CONSUMER_ROWS, 128 / type.bytes(), TensorMapView.Swizzle.B128);
    }

    /**
     * The constants the epilogue and the shared-memory layout use: the staging lies right after the operand ring,
     * EPILOGUE_BYTES (the staging and the residual's mbarriers) before the template's own barriers.
     */
    static String constants(GemmProblem problem, int blockN, int splits) {
        return """
                // The output tile staged for TMA stores (0: stored from registers): per consumer, its 64 rows in boxes of
                // 128 bytes a row (BOX_COLS columns), 128-byte swizzled as a TMA load of the box would lay it out.
                constexpr int STAGING_BYTES = %d, OUT_BYTES = %d, BOX_COLS = 128 / OUT_BYTES, BOX_BYTES = %d * 128;
                static_assert(BOX_COLS * OUT_BYTES == 128 && BOX_BYTES %% 1024 == 0 && LDC >= N, "boxes of whole 128-byte rows");
                // The staging%s%s.
                constexpr int EPILOGUE_BYTES = %d, BIAS_OFFSET = %d;
                """.formatted(stagingBytes(problem, blockN, splits), output(problem, splits).bytes(), CONSUMER_ROWS,
                stagesResidual(problem, blockN, splits) ? ", then one mbarrier per consumer for the residual's TMA copy" : "",
                stagesBias(problem, blockN, splits) ? ", then per consumer the tile's bias (BF16, at BIAS_OFFSET)" : "",
                sharedBytes(problem, blockN, splits), biasOffset(problem, blockN, splits));
    }

    /** Declares and (thread 0, before the block's first barrier) initialises the residual's mbarriers, if staged. */
    static String barriers(GemmProblem problem, int blockN, int splits) {
        return stagesResidual(problem, blockN, splits) ? """
                unsigned long long* residual_full = (unsigned long long*) (smem + STAGES * STAGE_BYTES + STAGING_BYTES);
                if (threadIdx.x == 0) {
                    for (int i = 0; i < CONSUMERS; ++i) mbar_init(&residual_full[i], 1);
                }
                """ : "";
    }

    /**
     * The residual's copy into this consumer's staging, for the consumer code right after its tile's first wgmma
     * group is committed ({@code first} says when that is): the wait for the previous tile's store to have read the
     * staging, and the copy's latency, then lie under the tile's K loop.
     */
    static String prefetchResidual(GemmProblem problem, int blockN, int splits, String first) {
        return stagesResidual(problem, blockN, splits) ? """
                if (%s && threadIdx.x %% 128 == 0) {  // the residual's rows of this tile, into the staging
                    unsigned char* staging = smem + STAGES * STAGE_BYTES + consumer * (STAGING_BYTES / CONSUMERS);
                    bulk_wait_read<0>();
                    mbar_arrive_expect_tx(&residual_full[consumer], 64 * BN * 2);
                    #pragma unroll
                    for (int box = 0; box < BN / BOX_COLS; ++box)
                        tma_load_2d(staging + box * BOX_BYTES, &residual, col0 + box * BOX_COLS, row0 + consumer * 64,
                                    &residual_full[consumer]);
                }
                """.formatted(first) : "";
    }

    /** What a consumer runs once it is done: waits for its last tile's stores (a block must not exit before). */
    static final String DRAIN = "if (STAGING_BYTES > 0 && threadIdx.x % 128 == 0) bulk_wait<0>();  // the last tile's stores are done";

    /** The epilogue of a tile: by TMA where {@link #applies}, else from registers. */
    static String source(GemmProblem problem, int blockN, int splits) {
        GemmEpilogue e = splits > 1 ? GemmEpilogue.store(DType.F32) : problem.epilogue();
        if (reducesFromRegisters(problem, blockN, splits)) {
            return "const int warp_col = 0;\n" + MmaGemmSource.reductionEpilogue(e);
        }
        if (!applies(problem, blockN, splits)) {
            return SplitKReduce.partialsSlice(splits) + "\nconst int warp_col = 0;\n" + MmaGemmSource.epilogue(e);
        }
        boolean staged = stagesResidual(problem, blockN, splits);
        // The bias from this consumer's copy in shared memory (zero past N; TMA stores nothing outside C).
        String bias = "bf16_to_f32(bias_tile[nt * 8 + quad * 2 + j])";
        String value;
        String indices;
        if (staged) {
            // The residual is read from the staging at the pair's own address.
            value = MmaGemmSource.valueSteps(e, bias, "bf16_to_f32((bf16_t) (staged >> (16 * j)))") + "    v[j] = x;";
            indices = "const unsigned staged = *reinterpret_cast<const unsigned*>(p);  // the residual's pair\n";
        } else {
            // A residual is read for elements inside C only.
            value = e.residual()
                    ? "if (row < M && col + j < N) {\n" + MmaGemmSource.valueSteps(e, bias, "bf16_to_f32(residual[i + j])").indent(4)
                            + "        v[j] = x;\n    }"
                    : MmaGemmSource.valueSteps(e, bias, "") + "    v[j] = x;";
            indices = e.residual() ? "const int row = row0 + warp_row + mt * 16 + group + half * 8, col = col0 + nt * 8 + quad * 2;\n"
                    + "const size_t i = (size_t) row * LDC + col;\n" : "";
        }
        // This thread's bias copy has landed; the barrier below (or the one here) makes every thread's visible.
        String biasStore = stagesBias(problem, blockN, splits)
                ? "cp_async_wait_all();\n" + (staged ? "named_barrier_sync(1 + consumer, 128);\n" : "") : "";
        String write = e.output() == DType.BF16
                ? "*reinterpret_cast<unsigned*>(p) = (unsigned) f32_to_bf16(v[0]) | ((unsigned) f32_to_bf16(v[1]) << 16);"
                : "*reinterpret_cast<float2*>(p) = make_float2(v[0], v[1]);";
        String address = "unsigned char* p = base + (mt * 16 + half * 8) * 128 + (nt * 8 / BOX_COLS) * BOX_BYTES + ((nt_chunk ^ key) << 4);";
        // Staged, the residual's copy waited for the previous store (prefetchResidual); else wait here.
        String free = biasStore + (staged ? """
                mbar_wait_or_late(&residual_full[consumer], ((w - blockIdx.x / CLUSTER) / (gridDim.x / CLUSTER)) & 1, late);"""
                : """
                if (threadIdx.x % 128 == 0) bulk_wait_read<0>();  // the previous tile's store has read the staging
                named_barrier_sync(1 + consumer, 128);""");
        return """
                // Epilogue through shared memory and TMA: %1$s
                {
                    unsigned char* staging = smem + STAGES * STAGE_BYTES + consumer * (STAGING_BYTES / CONSUMERS);
                    // A thread's pair of columns cl = nt * 8 + quad * 2 lies in box cl / BOX_COLS at byte b = (cl %% BOX_COLS) *
                    // OUT_BYTES of its row, in 16-byte chunk b / 16 swizzled by the row's low 3 bits (= group: the thread's rows
                    // lie 8 apart). nt's share of the chunk index has zero low bits where quad's lies, so the swizzle is nt's
                    // share XOR one per-thread key, and every address is a per-thread base plus constants and that XOR.
                    const int quad_bytes = quad * 2 * OUT_BYTES, key = (quad_bytes >> 4) ^ group;
                    unsigned char* const base = staging + (warp_row %% 64 + group) * 128 + (quad_bytes & 15);
                %8$s
                    #pragma unroll
                    for (int mt = 0; mt < MT; ++mt) {
                        #pragma unroll
                        for (int half = 0; half < 2; ++half) {
                            #pragma unroll
                            for (int nt = 0; nt < NT; ++nt) {
                                const int nt_chunk = ((nt * 8) %% BOX_COLS) * OUT_BYTES / 16;
                                %9$s
                %7$s
                                float v[2] = {0.0f, 0.0f};
                                #pragma unroll
                                for (int j = 0; j < 2; ++j) {
                %2$s
                                }
                                %10$s
                                %3$s
                            }
                        }
                    }
                    fence_proxy_async_shared();
                    named_barrier_sync(1 + consumer, 128);
                    if (threadIdx.x %% 128 == 0) {
                        #pragma unroll
                        for (int box = 0; box < BN / BOX_COLS; ++box)
                            %4$s(&%5$s, staging + box * BOX_BYTES, col0 + box * BOX_COLS, %6$srow0 + consumer * 64);
                        bulk_commit();
                    }
                }
                """.formatted(MmaGemmSource.describe(e), value.indent(20).stripTrailing(), write,
                e.accumulate() ? "tma_reduce_add_2d" : "tma_store_2d", splits > 1 ? "partials" : "c",
                splits > 1 ? "(w / UNITS) * M + " : "", indices.indent(16).stripTrailing(), free.indent(4).stripTrailing(),
                staged ? address : "", staged ? "" : address);
    }
}
