package dev.octet.cpu.ops;

import static dev.octet.cpu.ops.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class NormTest {
    private final Random random = new Random(2);
    private static final int ROWS = 4, D = 7;

    @Test
    void rmsNormWithUnitWeightHasUnitRms() {
        double[] x = normal(random, ROWS * D), w = new double[D], out = new double[ROWS * D], rstd = new double[ROWS];
        java.util.Arrays.fill(w, 1);
        for (int i = 0; i < x.length; i++) x[i] = 3 * x[i] + 1;
        RmsNorm.forward(out, rstd, x, w, ROWS, D, 1e-12, Rounding.EXACT);
        for (int r = 0; r < ROWS; r++) {
            double ss = 0;
            for (int d = 0; d < D; d++) ss += out[r * D + d] * out[r * D + d];
            assertEquals(1.0, Math.sqrt(ss / D), 1e-9);
        }
    }

    @Test
    void rmsNormBackwardMatchesFiniteDifferences() {
        double[] x = normal(random, ROWS * D), w = normal(random, D), g = normal(random, ROWS * D);
        double[] out = new double[ROWS * D], rstd = new double[ROWS], dx = new double[ROWS * D];
        double[] before = normal(random, D), dw = before.clone();
        RmsNorm.forward(out, rstd, x, w, ROWS, D, 1e-5, Rounding.EXACT);
        RmsNorm.backward(dx, dw, g, x, w, rstd, ROWS, D, Rounding.EXACT);
        DoubleSupplier loss = () -> {
            RmsNorm.forward(out, new double[ROWS], x, w, ROWS, D, 1e-5, Rounding.EXACT);
            return dot(out, g);
        };
        check("rmsnorm dx", x, dx, loss);
        check("rmsnorm dw", w, added(dw, before), loss);
    }

    @Test
    void layerNormWithUnitWeightHasZeroMeanUnitVariance() {
        double[] x = normal(random, ROWS * D), w = new double[D], b = new double[D], out = new double[ROWS * D];
        java.util.Arrays.fill(w, 1);
        for (int i = 0; i < x.length; i++) x[i] = 5 * x[i] + 100;
        LayerNorm.forward(out, new double[ROWS], new double[ROWS], x, w, b, ROWS, D, 1e-12, Rounding.EXACT);
        for (int r = 0; r < ROWS; r++) {
            double m = 0, v = 0;
            for (int d = 0; d < D; d++) m += out[r * D + d] / D;
            for (int d = 0; d < D; d++) v += (out[r * D + d] - m) * (out[r * D + d] - m) / D;
            assertEquals(0.0, m, 1e-12);
            assertEquals(1.0, v, 1e-9);
        }
    }

    @Test
    void layerNormBackwardMatchesFiniteDifferences() {
        double[] x = normal(random, ROWS * D), w = normal(random, D), b = normal(random, D), g = normal(random, ROWS * D);
        double[] out = new double[ROWS * D], mean = new double[ROWS], rstd = new double[ROWS], dx = new double[ROWS * D];
        double[] wBefore = normal(random, D), dw = wBefore.clone(), bBefore = normal(random, D), db = bBefore.clone();
        LayerNorm.forward(out, mean, rstd, x, w, b, ROWS, D, 1e-5, Rounding.EXACT);
        LayerNorm.backward(dx, dw, db, g, x, w, mean, rstd, ROWS, D, Rounding.EXACT);
        DoubleSupplier loss = () -> {
            LayerNorm.forward(out, new double[ROWS], new double[ROWS], x, w, b, ROWS, D, 1e-5, Rounding.EXACT);
            return dot(out, g);
        };
        check("layernorm dx", x, dx, loss);
        check("layernorm dw", w, added(dw, wBefore), loss);
        check("layernorm db", b, added(db, bBefore), loss);
    }
}
