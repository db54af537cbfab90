package dev.octet.cpu.ops;

/** SwiGLU gating: {@code h = silu(gate) · up}, with {@code silu(g) = g·σ(g)}; gate, up, h {@code [M, F]}. */
public final class SwiGlu {
    private SwiGlu() {}

    public static void forward(double[] h, double[] gate, double[] up, int n, Rounding rounding) {
        Shapes.require(gate, n, "gate");
        Shapes.require(up, n, "up");
        Shapes.require(h, n, "h");
        for (int i = 0; i < n; i++) {
            double g = gate[i];
            h[i] = rounding.apply(g * sigmoid(g) * up[i]);
        }
    }

    /** {@code dgate = dh·up·σ(g)(1 + g(1 − σ(g)))}, {@code dup = dh·silu(g)}; both written. */
    public static void backward(double[] dgate, double[] dup, double[] dh, double[] gate, double[] up, int n,
                                Rounding rounding) {
        Shapes.require(dgate, n, "dgate");
        Shapes.require(dup, n, "dup");
        for (int i = 0; i < n; i++) {
            double g = gate[i], s = sigmoid(g);
            dgate[i] = rounding.apply(dh[i] * up[i] * s * (1 + g * (1 - s)));
            dup[i] = rounding.apply(dh[i] * g * s);
        }
    }

    /** Stable for large |x|: never computes exp of a large positive number. */
    static double sigmoid(double x) {
        if (x >= 0) return 1 / (1 + Math.exp(-x));
        double e = Math.exp(x);
        return e / (1 + e);
    }
}
