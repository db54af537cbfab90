package dev.octet.cpu.ops;

/**
 * Clipping by the global L2 norm over all gradient arrays (PyTorch {@code clip_grad_norm_}): every gradient is
 * scaled by {@code min(1, maxNorm/norm)}. The norm is summed in double, in array order, so it is deterministic.
 */
public final class GradientClipping {
    private GradientClipping() {}

    public static double globalNorm(float[]... grads) {
        double ss = 0;
        for (float[] g : grads) {
            for (float x : g) ss += (double) x * x;
        }
        return Math.sqrt(ss);
    }

    public static double globalNorm(double[]... grads) {
        double ss = 0;
        for (double[] g : grads) {
            for (double x : g) ss += x * x;
        }
        return Math.sqrt(ss);
    }

    /** Scales the gradients in place when their global norm exceeds {@code maxNorm}; returns the norm before clipping. */
    public static double clip(double maxNorm, float[]... grads) {
        double norm = globalNorm(grads);
        double scale = scale(maxNorm, norm);
        if (scale < 1) {
            for (float[] g : grads) {
                for (int i = 0; i < g.length; i++) g[i] = (float) (g[i] * scale);
            }
        }
        return norm;
    }

    /** As {@link #clip(double, float[]...)} for double gradients. */
    public static double clip(double maxNorm, double[]... grads) {
        double norm = globalNorm(grads);
        double scale = scale(maxNorm, norm);
        if (scale < 1) {
            for (double[] g : grads) {
                for (int i = 0; i < g.length; i++) g[i] *= scale;
            }
        }
        return norm;
    }

    /** {@code min(1, maxNorm/norm)}; a zero or non-finite norm is left alone (1), so the caller can skip the step. */
    public static double scale(double maxNorm, double norm) {
        if (!(norm > 0) || Double.isInfinite(norm)) return 1;
        return Math.min(1, maxNorm / norm);
    }
}
