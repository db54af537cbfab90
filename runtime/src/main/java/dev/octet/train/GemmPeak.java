package dev.octet.train;

import dev.octet.dsl.spec.RecipeSpec;

/**
 * The dense tensor-core peak a training step's GEMMs run against, for model FLOPs utilisation (MFU): NVIDIA's
 * H100/H200 SXM figures without sparsity (the datasheets print twice these, "with sparsity"). The H200 has the
 * H100 SXM's tensor cores and clocks; only its memory differs. A recipe with any GEMM in FP8 is measured against
 * the FP8 peak, one with every GEMM in BF16 against the BF16 peak (docs/gpu.md).
 */
public enum GemmPeak {
    BF16("bf16", 989.4),
    FP8("fp8", 1978.9);

    private final String label;
    private final double teraFlops;

    GemmPeak(String label, double teraFlops) {
        this.label = label;
        this.teraFlops = teraFlops;
    }

    /** The peak of {@code recipe}'s fastest GEMM precision. */
    public static GemmPeak of(RecipeSpec recipe) {
        return recipe.allBf16() ? BF16 : FP8;
    }

    public String label() {
        return label;
    }

    /** Dense peak in TFLOP/s on an H200 (or H100) SXM. */
    public double teraFlops() {
        return teraFlops;
    }

    /** Model FLOPs utilisation: {@code teraFlopsPerSecond} as a fraction of this peak. */
    public double utilisation(double teraFlopsPerSecond) {
        return teraFlopsPerSecond / teraFlops;
    }
}
