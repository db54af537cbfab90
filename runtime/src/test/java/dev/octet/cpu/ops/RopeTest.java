package dev.octet.cpu.ops;

import static dev.octet.cpu.ops.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RopeTest {
    private final Random random = new Random(3);
    private static final int ROWS = 5, HEADS = 3, HD = 8;
    private static final double THETA = 10000;
    private final int[] positions = {0, 1, 2, 7, 100};

    @Test
    void matchesHuggingFaceRotateHalfFormula() {
        double[] x = normal(random, ROWS * HEADS * HD), out = new double[x.length];
        Rope.forward(out, x, positions, ROWS, HEADS, HD, THETA, Rounding.EXACT);
        int half = HD / 2;
        for (int r = 0; r < ROWS; r++) {
            // HF: emb = cat(freqs, freqs); q*cos(emb) + rotate_half(q)*sin(emb), rotate_half(q) = cat(-q2, q1)
            double[] emb = new double[HD];
            for (int i = 0; i < HD; i++) {
                emb[i] = positions[r] / Math.pow(THETA, (double) (2 * (i % half)) / HD);
            }
            for (int h = 0; h < HEADS; h++) {
                int o = (r * HEADS + h) * HD;
                for (int i = 0; i < HD; i++) {
                    double rotated = i < half ? -x[o + i + half] : x[o + i - half];
                    double expected = x[o + i] * Math.cos(emb[i]) + rotated * Math.sin(emb[i]);
                    assertEquals(expected, out[o + i], 1e-12);
                }
            }
        }
    }

    @Test
    void preservesNormOfEveryHeadAndIsIdentityAtPositionZero() {
        double[] x = normal(random, ROWS * HEADS * HD), out = new double[x.length];
        Rope.forward(out, x, positions, ROWS, HEADS, HD, THETA, Rounding.EXACT);
        for (int v = 0; v < ROWS * HEADS; v++) {
            double a = 0, b = 0;
            for (int i = 0; i < HD; i++) {
                a += x[v * HD + i] * x[v * HD + i];
                b += out[v * HD + i] * out[v * HD + i];
            }
            assertEquals(a, b, 1e-12 * a);
        }
        for (int i = 0; i < HEADS * HD; i++) assertEquals(x[i], out[i]); // row 0 is position 0
    }

    @Test
    void scoresDependOnlyOnRelativePosition() {
        double[] q = normal(random, HD), k = normal(random, HD);
        double s1 = dot(rope(q, 5), rope(k, 3)), s2 = dot(rope(q, 12), rope(k, 10));
        assertEquals(s1, s2, 1e-12);
    }

    @Test
    void backwardIsInverseRotationAndMatchesFiniteDifferences() {
        double[] x = normal(random, ROWS * HEADS * HD), g = normal(random, x.length);
        double[] out = new double[x.length], dx = new double[x.length];
        Rope.backward(dx, g, positions, ROWS, HEADS, HD, THETA, Rounding.EXACT);
        check("rope dx", x, dx, () -> {
            Rope.forward(out, x, positions, ROWS, HEADS, HD, THETA, Rounding.EXACT);
            return dot(out, g);
        });
        double[] back = new double[x.length];
        Rope.forward(out, x, positions, ROWS, HEADS, HD, THETA, Rounding.EXACT);
        Rope.backward(back, out, positions, ROWS, HEADS, HD, THETA, Rounding.EXACT);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], back[i], 1e-12);
    }

    private static double[] rope(double[] v, int position) {
        double[] out = new double[v.length];
        Rope.forward(out, v, new int[] {position}, 1, 1, v.length, THETA, Rounding.EXACT);
        return out;
    }
}
