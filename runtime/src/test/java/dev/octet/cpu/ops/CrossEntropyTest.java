package dev.octet.cpu.ops;

import static dev.octet.cpu.ops.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {
    private final Random random = new Random(7);
    private static final int M = 6, V = 9;

    @Test
    void uniformLogitsGiveLogVocab() {
        double[] logits = new double[M * V];
        java.util.Arrays.fill(logits, 3.25);
        assertEquals(Math.log(V), CrossEntropy.forward(logits, new int[M], M, V), 1e-14);
    }

    @Test
    void forwardMatchesNaiveFormulaWithPartialMask() {
        double[] logits = normal(random, M * V);
        int[] targets = {0, 8, 3, 3, -100, 1};
        double[] mask = CrossEntropy.mask(new boolean[] {true, true, false, true, false, true});
        double expected = 0;
        for (int r : new int[] {0, 1, 3, 5}) {
            double z = 0;
            for (int j = 0; j < V; j++) z += Math.exp(logits[r * V + j]);
            expected += -Math.log(Math.exp(logits[r * V + targets[r]]) / z);
        }
        assertEquals(expected / 4, CrossEntropy.forward(logits, targets, mask, M, V), 1e-13);
    }

    @Test
    void hugeLogitsStayFinite() {
        double[] logits = {1000, 0, -1000, 1000};
        int[] targets = {1, 0}; // row losses 1000 and 2000: exp(±1000) would overflow without max subtraction
        assertEquals(1500.0, CrossEntropy.forward(logits, targets, 2, 2), 1e-9);
        double[] d = new double[4];
        CrossEntropy.backward(d, logits, targets, 2, 2, 1.0, Rounding.EXACT);
        assertArrayEquals(new double[] {0.5, -0.5, -0.5, 0.5}, d, 1e-15);
    }

    @Test
    void backwardMatchesFiniteDifferencesWithPartialMask() {
        double[] logits = normal(random, M * V);
        int[] targets = {2, 8, -1, 0, 5, 5};
        double[] mask = {1, 1, 0, 1, 0, 1};
        double dloss = 0.7;
        double[] d = new double[M * V];
        CrossEntropy.backward(d, logits, targets, mask, M, V, dloss, Rounding.EXACT);
        check("cross-entropy dlogits", logits, d, () -> dloss * CrossEntropy.forward(logits, targets, mask, M, V));
        for (int j = 0; j < V; j++) assertEquals(0.0, d[2 * V + j]); // masked rows get exactly zero
    }

    @Test
    void noMaskedTokensGivesZeroLossAndZeroGradient() {
        double[] logits = normal(random, M * V), d = new double[M * V];
        java.util.Arrays.fill(d, Double.NaN);
        double[] mask = new double[M];
        int[] targets = new int[M];
        assertEquals(0.0, CrossEntropy.forward(logits, targets, mask, M, V));
        CrossEntropy.backward(d, logits, targets, mask, M, V, 1.0, Rounding.EXACT);
        for (double x : d) assertEquals(0.0, x);
    }
}
