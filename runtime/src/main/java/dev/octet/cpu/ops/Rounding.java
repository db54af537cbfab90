package dev.octet.cpu.ops;

import dev.octet.numerics.Bf16;

/** Which values the reference rounds: none, or every value the GPU would store in BF16. */
public enum Rounding {
    /** No rounding: float64 throughout, for finite-difference gradient checks. */
    EXACT,
    /** Round stored activations (and activation gradients) to BF16, as the GPU stores them; accumulation stays exact. */
    GPU;

    /** {@code x} as it would be stored under this policy. */
    public double apply(double x) {
        return this == GPU ? Bf16.round(x) : x;
    }

    /**
     * A norm's per-row statistic (mean, rstd) as the GPU keeps it for backward, in FP32 under this policy; the norm's
     * output is computed from that value, so backward can recompute the output from the saved statistic exactly.
     */
    public double statistic(double x) {
        return this == GPU ? (double) (float) x : x;
    }

    /** Rounds {@code a[from, to)} in place under this policy. */
    public void apply(double[] a, int from, int to) {
        if (this == GPU) {
            for (int i = from; i < to; i++) a[i] = Bf16.round(a[i]);
        }
    }

    /** Rounds the whole array in place under this policy. */
    public void apply(double[] a) {
        apply(a, 0, a.length);
    }
}
