package dev.octet.compiler.cuda.gemm;

/**
 * The one place that picks a GEMM kernel template for a problem. Callers (the lowering of linear layers)
 * depend on this and on {@link GemmProblem}'s parameter contract only: FP8 runs on Hopper's wgmma with TMA
 * ({@link Fp8WgmmaGemm}), BF16 too ({@link Bf16WgmmaGemm}) where TMA can read the operands (contiguous extents
 * of whole 16 bytes), else on mma.sync ({@link Bf16MmaGemm}, any shape).
 */
public final class GemmKernels {
    private GemmKernels() {}

    /**
     * The kernel for {@code problem}, with the tiles its template chooses.
     *
     * @throws IllegalArgumentException if no template supports the problem (e.g. FP8 with K not a multiple of 32)
     */
    public static GemmKernel forProblem(GemmProblem problem) {
        if (problem.isFp8()) {
            return Fp8WgmmaGemm.of(problem);
        }
        return Bf16WgmmaGemm.supports(problem) ? Bf16WgmmaGemm.of(problem) : Bf16MmaGemm.of(problem);
    }
}
