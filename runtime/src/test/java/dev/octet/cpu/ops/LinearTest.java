package dev.octet.cpu.ops;

import static dev.octet.cpu.ops.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class LinearTest {
    private final Random random = new Random(5);

    @Test
    void forwardAndBackwardMatchNaiveLoopsAcrossTileBoundaries() {
        int M = 37, K = 301, N = 270; // not multiples of the 16-row, 128-k, 256-n tiles nor of the 4-k unroll
        double[] x = normal(random, M * K), w = normal(random, N * K), bias = normal(random, N), dy = normal(random, M * N);
        double[] y = new double[M * N];
        Linear.forward(y, x, w, bias, M, K, N, Rounding.EXACT);
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double s = bias[j];
                for (int p = 0; p < K; p++) s += x[i * K + p] * w[j * K + p];
                assertEquals(s, y[i * N + j], 1e-11);
            }
        }
        double[] dx = new double[M * K], dw = new double[N * K], db = new double[N];
        Linear.backward(dx, dw, db, dy, x, w, M, K, N, Rounding.EXACT);
        for (int i = 0; i < M; i++) {
            for (int p = 0; p < K; p++) {
                double s = 0;
                for (int j = 0; j < N; j++) s += dy[i * N + j] * w[j * K + p];
                assertEquals(s, dx[i * K + p], 1e-11);
            }
        }
        for (int j = 0; j < N; j++) {
            double sb = 0;
            for (int i = 0; i < M; i++) sb += dy[i * N + j];
            assertEquals(sb, db[j], 1e-11);
            for (int p = 0; p < K; p++) {
                double s = 0;
                for (int i = 0; i < M; i++) s += dy[i * N + j] * x[i * K + p];
                assertEquals(s, dw[j * K + p], 1e-11);
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesAndAccumulatesParameterGradients() {
        int M = 6, K = 5, N = 4;
        double[] x = normal(random, M * K), w = normal(random, N * K), bias = normal(random, N), g = normal(random, M * N);
        double[] dx = new double[M * K], y = new double[M * N];
        double[] wBefore = normal(random, N * K), dw = wBefore.clone(), bBefore = normal(random, N), db = bBefore.clone();
        Linear.backward(dx, dw, db, g, x, w, M, K, N, Rounding.EXACT);
        DoubleSupplier loss = () -> {
            Linear.forward(y, x, w, bias, M, K, N, Rounding.EXACT);
            return dot(y, g);
        };
        check("linear dx", x, dx, loss);
        check("linear dw", w, added(dw, wBefore), loss);
        check("linear db", bias, added(db, bBefore), loss);
    }

    @Test
    void withoutBiasEqualsZeroBias() {
        int M = 3, K = 9, N = 5;
        double[] x = normal(random, M * K), w = normal(random, N * K), a = new double[M * N], b = new double[M * N];
        Linear.forward(a, x, w, M, K, N, Rounding.EXACT);
        Linear.forward(b, x, w, new double[N], M, K, N, Rounding.EXACT);
        assertArrayEquals(a, b);
    }
}
