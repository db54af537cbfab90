package dev.octet.compiler.cuda.gemm;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one place that picks a GEMM kernel template and its schedule for a problem. Callers (the lowering of linear
 * layers) depend on this and on {@link GemmProblem}'s parameter contract only: FP8 runs on Hopper's wgmma with TMA
 * ({@link Fp8WgmmaGemm}), BF16 too ({@link Bf16WgmmaGemm}) where TMA can read the operands (contiguous extents
 * of whole 16 bytes), else on mma.sync ({@link Bf16MmaGemm}, any shape). The Hopper templates take the schedule
 * measured fastest for the problem ({@link GemmSchedules}) where there is one, else their own rule.
 */
public final class GemmKernels {
    private GemmKernels() {}

    /** Splits of K a search tries, while a range keeps at least {@link #MIN_SPLIT_BLOCKS} K blocks. */
    static final List<Integer> SPLITS = List.of(1, 2, 3, 4, 6, 8);
    static final int MIN_SPLIT_BLOCKS = 4;
    /** A search splits K only while the work units stay within this many waves of the SMs. */
    static final int MAX_SPLIT_WAVES = 16;

    /**
     * The kernel for {@code problem}, scheduled as the H200's measurements say.
     *
     * @throws IllegalArgumentException if no template supports the problem (e.g. FP8 with K not a multiple of 32)
     */
    public static GemmKernel forProblem(GemmProblem problem) {
        return forProblem(problem, GemmSchedules.h200());
    }

    /** The kernel for {@code problem}, scheduled as {@code measured} says where it holds the problem. */
    public static GemmKernel forProblem(GemmProblem problem, GemmSchedules measured) {
        GemmKernel rule = problem.isFp8() ? Fp8WgmmaGemm.of(problem)
                : Bf16WgmmaGemm.supports(problem) ? Bf16WgmmaGemm.of(problem) : Bf16MmaGemm.of(problem);
        return problemKey(rule).flatMap(measured::lookup).flatMap(s -> build(problem, s)).orElse(rule);
    }

    /** The problem's Hopper template with {@code schedule}, or nothing where the template cannot run it so. */
    private static Optional<GemmKernel> build(GemmProblem problem, GemmSchedule schedule) {
        return problem.isFp8() ? Fp8WgmmaGemm.build(problem, schedule).map(GemmKernel.class::cast)
                : Bf16WgmmaGemm.build(problem, schedule).map(GemmKernel.class::cast);
    }

    /** The template's own rule, without measurements. */
    public static GemmKernel byRule(GemmProblem problem) {
        return forProblem(problem, GemmSchedules.none());
    }

    /** The key {@link GemmSchedules} holds {@code kernel}'s problem under; empty for kernels without a schedule choice. */
    public static Optional<String> problemKey(GemmKernel kernel) {
        return switch (kernel) {
            case Fp8WgmmaGemm f -> Optional.of(f.problemKey());
            case Bf16WgmmaGemm b -> Optional.of(b.problemKey());
            case Bf16MmaGemm m -> Optional.empty();
        };
    }

    /** {@code kernel}'s schedule; empty for kernels without a schedule choice. */
    public static Optional<GemmSchedule> schedule(GemmKernel kernel) {
        return switch (kernel) {
            case Fp8WgmmaGemm f -> Optional.of(f.schedule());
            case Bf16WgmmaGemm b -> Optional.of(b.schedule());
            case Bf16MmaGemm m -> Optional.empty();
        };
    }

    /**
     * Every schedule a search measures for {@code problem}: each column tile of its Hopper template, FP8 in clusters
     * of 1 and 2, and for a problem that may split K (weight gradients into FP32), splits while ranges keep
     * {@value #MIN_SPLIT_BLOCKS} K blocks and the units stay within {@value #MAX_SPLIT_WAVES} waves. Empty where no
     * Hopper template runs the problem.
     */
    public static List<GemmKernel> candidates(GemmProblem problem) {
        List<GemmKernel> kernels = new ArrayList<>();
        boolean fp8 = problem.isFp8();
        if (!fp8 && !Bf16WgmmaGemm.supports(problem)) {
            return kernels;
        }
        List<Integer> columnTiles = fp8 ? List.of(64, 128) : List.of(64, 128, 256);
        List<Integer> clusters = fp8 ? List.of(1, 2) : List.of(1);
        int kBlocks = fp8 ? Fp8WgmmaGemm.kBlocks(problem) : Bf16WgmmaGemm.kBlocks(problem);
        for (int blockN : columnTiles) {
            int tiles = WarpSpecializedGemm.tiles(problem, blockN);
            for (int cluster : clusters) {
                for (int splits : SPLITS) {
                    if (splits > 1 && (!WarpSpecializedGemm.splitsK(problem) || Math.ceilDiv(kBlocks, splits) < MIN_SPLIT_BLOCKS
                            || (long) tiles * splits > (long) MAX_SPLIT_WAVES * GemmTileHeuristic.SM_COUNT)) {
                        break;
                    }
                    build(problem, new GemmSchedule(blockN, cluster, splits)).ifPresent(kernels::add);
                }
            }
        }
        return kernels;
    }
}
