package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.KernelSpec;

/**
 * The one place that picks a GEMM kernel template for a problem. Callers (the lowering of linear layers)
 * depend on this and on {@link GemmProblem}'s parameter contract only: FP8 runs on Hopper's wgmma with TMA
 * ({@link Fp8WgmmaGemm}), BF16 on mma.sync ({@link Bf16MmaGemm}) until a wgmma BF16 template takes its place.
 */
public final class GemmKernels {
    private GemmKernels() {}

    /**
     * The kernel for {@code problem}, tiles chosen by {@link GemmTileHeuristic}.
     *
     * @throws IllegalArgumentException if no template supports the problem (e.g. FP8 with K not a multiple of 32)
     */
    public static KernelSpec forProblem(GemmProblem problem) {
        return problem.isFp8() ? Fp8WgmmaGemm.of(problem) : Bf16MmaGemm.of(problem);
    }
}
