package dev.octet.cpu.ops;

/**
 * GELU, tanh approximation (GPT-2's "gelu_new", PyTorch's {@code approximate="tanh"}):
 * {@code y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}.
 */
public final class Gelu {
    private Gelu() {}

    private static final double C = Math.sqrt(2 / Math.PI), A = 0.044715;

    public static void forward(double[] out, double[] x, int n, Rounding rounding) {
        Shapes.require(x, n, "x");
        Shapes.require(out, n, "out");
        for (int i = 0; i < n; i++) {
            double v = x[i];
            out[i] = rounding.apply(0.5 * v * (1 + Math.tanh(C * (v + A * v * v * v))));
        }
    }

    /** {@code dx} written. */
    public static void backward(double[] dx, double[] dout, double[] x, int n, Rounding rounding) {
        Shapes.require(dx, n, "dx");
        for (int i = 0; i < n; i++) {
            double v = x[i];
            double t = Math.tanh(C * (v + A * v * v * v));
            double grad = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * C * (1 + 3 * A * v * v);
            dx[i] = rounding.apply(dout[i] * grad);
        }
    }
}
