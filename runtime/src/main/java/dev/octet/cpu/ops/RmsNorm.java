package dev.octet.cpu.ops;

/**
 * RMSNorm over the last axis: {@code y = x / sqrt(mean(x²) + eps) · w}, x and y {@code [rows, dim]}, w {@code [dim]}.
 * Forward saves {@code rstd[r] = 1/sqrt(mean(x[r]²) + eps)} (FP32 on the GPU, unrounded here) for backward.
 */
public final class RmsNorm {
    private RmsNorm() {}

    public static void forward(double[] out, double[] rstd, double[] x, double[] weight, int rows, int dim, double eps,
                               Rounding rounding) {
        Shapes.require(x, (long) rows * dim, "x");
        Shapes.require(out, (long) rows * dim, "out");
        Shapes.require(rstd, rows, "rstd");
        Shapes.require(weight, dim, "weight");
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double ss = 0;
            for (int d = 0; d < dim; d++) ss += x[o + d] * x[o + d];
            rstd[r] = rounding.statistic(1.0 / Math.sqrt(ss / dim + eps));
        }
        normalize(out, x, weight, rstd, rows, dim, rounding);
    }

    /** {@code out = x · rstd · w} from saved statistics: the forward's output, or backward's recomputation of it. */
    public static void normalize(double[] out, double[] x, double[] weight, double[] rstd, int rows, int dim,
                                 Rounding rounding) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double s = rstd[r];
            for (int d = 0; d < dim; d++) out[o + d] = rounding.apply(x[o + d] * s * weight[d]);
        }
    }

    /**
     * {@code dx} written; {@code dweight} accumulated. With g = dout:
     * {@code dx = rstd·(g·w − x·rstd²·mean(g·w·x))}, {@code dw += g·x·rstd}.
     */
    public static void backward(double[] dx, double[] dweight, double[] dout, double[] x, double[] weight,
                                double[] rstd, int rows, int dim, Rounding rounding) {
        Shapes.require(dx, (long) rows * dim, "dx");
        Shapes.require(dweight, dim, "dweight");
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double s = rstd[r];
            double dot = 0;
            for (int d = 0; d < dim; d++) dot += dout[o + d] * weight[d] * x[o + d];
            double c = s * s * dot / dim;
            for (int d = 0; d < dim; d++) {
                dx[o + d] = rounding.apply(s * (dout[o + d] * weight[d] - x[o + d] * c));
                dweight[d] += dout[o + d] * x[o + d] * s;
            }
        }
    }
}
