package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.KernelSpec;

/** A kernel spec that computes one {@link GemmProblem}: what the step's cost model and tests ask of any GEMM. */
public sealed interface GemmKernel extends KernelSpec permits Fp8WgmmaGemm, Bf16WgmmaGemm, Bf16MmaGemm {
    GemmProblem problem();
}
