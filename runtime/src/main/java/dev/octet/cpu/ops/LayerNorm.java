package dev.octet.cpu.ops;

/**
 * LayerNorm over the last axis: {@code y = (x − mean)/sqrt(var + eps) · w + b} (biased variance, as PyTorch).
 * Forward saves {@code mean[r]} and {@code rstd[r]} (FP32 on the GPU, unrounded here) for backward.
 */
public final class LayerNorm {
    private LayerNorm() {}

    public static void forward(double[] out, double[] mean, double[] rstd, double[] x, double[] weight, double[] bias,
                               int rows, int dim, double eps, Rounding rounding) {
        Shapes.require(x, (long) rows * dim, "x");
        Shapes.require(out, (long) rows * dim, "out");
        Shapes.require(mean, rows, "mean");
        Shapes.require(rstd, rows, "rstd");
        Shapes.require(weight, dim, "weight");
        Shapes.require(bias, dim, "bias");
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double m = 0;
            for (int d = 0; d < dim; d++) m += x[o + d];
            m /= dim;
            double v = 0; // two-pass variance: no cancellation when |mean| >> std
            for (int d = 0; d < dim; d++) v += (x[o + d] - m) * (x[o + d] - m);
            mean[r] = rounding.statistic(m);
            rstd[r] = rounding.statistic(1.0 / Math.sqrt(v / dim + eps));
        }
        normalize(out, x, weight, bias, mean, rstd, rows, dim, rounding);
    }

    /** {@code out = (x − mean) · rstd · w + b} from saved statistics: the forward's output, or backward's recomputation. */
    public static void normalize(double[] out, double[] x, double[] weight, double[] bias, double[] mean, double[] rstd,
                                 int rows, int dim, Rounding rounding) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double m = mean[r];
            double s = rstd[r];
            for (int d = 0; d < dim; d++) out[o + d] = rounding.apply((x[o + d] - m) * s * weight[d] + bias[d]);
        }
    }

    /**
     * {@code dx} written; {@code dweight}, {@code dbias} accumulated. With xhat = (x − mean)·rstd, g = dout:
     * {@code dx = rstd·(g·w − mean(g·w) − xhat·mean(g·w·xhat))}.
     */
    public static void backward(double[] dx, double[] dweight, double[] dbias, double[] dout, double[] x,
                                double[] weight, double[] mean, double[] rstd, int rows, int dim, Rounding rounding) {
        Shapes.require(dx, (long) rows * dim, "dx");
        Shapes.require(dweight, dim, "dweight");
        Shapes.require(dbias, dim, "dbias");
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double m = mean[r], s = rstd[r];
            double meanG = 0, meanGX = 0;
            for (int d = 0; d < dim; d++) {
                double gw = dout[o + d] * weight[d];
                meanG += gw;
                meanGX += gw * (x[o + d] - m) * s;
            }
            meanG /= dim;
            meanGX /= dim;
            for (int d = 0; d < dim; d++) {
                double xhat = (x[o + d] - m) * s;
                dx[o + d] = rounding.apply(s * (dout[o + d] * weight[d] - meanG - xhat * meanGX));
                dweight[d] += dout[o + d] * xhat;
                dbias[d] += dout[o + d];
            }
        }
    }
}
