package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.KernelSpec;

/** A kernel spec that computes one {@link GemmProblem}: what the step's cost model and tests ask of any GEMM. */
public sealed interface GemmKernel extends KernelSpec permits Fp8WgmmaGemm, Bf16WgmmaGemm, Bf16MmaGemm {
    GemmProblem problem();

    /**
     * How many ways K is split: with more than one, the kernel writes {@code partials} (f32 [splits, M, N]) instead
     * of {@code c}, and {@link #splitReduction} adds them to C.
     */
    default int splits() {
        return 1;
    }

    /** The launch that completes a split-K GEMM. */
    default SplitKReduce splitReduction() {
        if (splits() == 1) {
            throw new IllegalStateException(kernelName() + " does not split K");
        }
        return new SplitKReduce(problem().m(), problem().n(), splits());
    }
}
