package dev.octet.cpu.exec;

import dev.octet.cpu.ops.Rounding;

/**
 * The three GEMMs of a linear layer y = x·Wᵀ, x [m, k], W [n, k]: one implementation per precision
 * (BF16, or FP8 with the recipe's quantization), chosen per layer by the recipe. The forward result is
 * left unrounded so the caller can add the bias first and round once, as a GPU epilogue does.
 */
public interface LinearKernel {
    /** y = x·Wᵀ (written, FP32-exact). */
    void forward(double[] y, double[] x, double[] w, int m, int k, int n);

    /** dx = dy·W (written, rounded as the GPU stores it). */
    void backwardInput(double[] dx, double[] dy, double[] w, int m, int k, int n, Rounding rounding);

    /** dW += dyᵀ·x. */
    void backwardWeight(double[] dw, double[] dy, double[] x, int m, int k, int n);
}
