package dev.octet.cpu.ops;

import static dev.octet.cpu.ops.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class ActivationTest {
    private final Random random = new Random(6);
    private static final int N = 24;

    @Test
    void geluMatchesTanhApproximationValues() {
        double[] out = new double[3];
        Gelu.forward(out, new double[] {1, -2, 0}, 3, Rounding.EXACT);
        assertEquals(0.8411919906082768, out[0], 1e-15); // 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) at x = 1
        assertEquals(-0.04540230591222494, out[1], 1e-15);
        assertEquals(0.0, out[2]);
    }

    @Test
    void geluBackwardMatchesFiniteDifferences() {
        double[] x = normal(random, N), g = normal(random, N), out = new double[N], dx = new double[N];
        for (int i = 0; i < N; i++) x[i] *= 3;
        Gelu.backward(dx, g, x, N, Rounding.EXACT);
        check("gelu dx", x, dx, () -> {
            Gelu.forward(out, x, N, Rounding.EXACT);
            return dot(out, g);
        });
    }

    @Test
    void swiGluForwardIsSiluTimesUp() {
        double[] h = new double[2];
        SwiGlu.forward(h, new double[] {1, -800}, new double[] {2, 3}, 2, Rounding.EXACT);
        assertEquals(2 * 1 / (1 + Math.exp(-1)), h[0], 1e-15);
        assertEquals(0.0, h[1], 1e-300); // large negative gate: no overflow, no NaN
    }

    @Test
    void swiGluBackwardMatchesFiniteDifferences() {
        double[] gate = normal(random, N), up = normal(random, N), g = normal(random, N);
        double[] h = new double[N], dgate = new double[N], dup = new double[N];
        for (int i = 0; i < N; i++) gate[i] *= 3;
        SwiGlu.backward(dgate, dup, g, gate, up, N, Rounding.EXACT);
        DoubleSupplier loss = () -> {
            SwiGlu.forward(h, gate, up, N, Rounding.EXACT);
            return dot(h, g);
        };
        check("swiglu dgate", gate, dgate, loss);
        check("swiglu dup", up, dup, loss);
    }

    @Test
    void residualAddAndBackward() {
        double[] a = normal(random, N), b = normal(random, N), g = normal(random, N), out = new double[N];
        double[] da = new double[N], db = new double[N];
        Residual.backward(da, db, g, N);
        DoubleSupplier loss = () -> {
            Residual.forward(out, a, b, N, Rounding.EXACT);
            return dot(out, g);
        };
        check("residual da", a, da, loss);
        check("residual db", b, db, loss);
        Residual.forward(out, a, b, N, Rounding.EXACT);
        for (int i = 0; i < N; i++) assertEquals(a[i] + b[i], out[i]);
    }
}
