package dev.octet.cpu.ops;

import static dev.octet.cpu.ops.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class AttentionTest {
    private final Random random = new Random(4);
    private static final int B = 2, T = 5, H = 4, KVH = 2, HD = 4;
    /** Batch 0: documents [0,0,0 | 1,1]; batch 1: one document. */
    private static final int[] DOCS = {0, 0, 0, 1, 1, 2, 2, 2, 2, 2};

    @Test
    void forwardMatchesNaiveMaskedSoftmaxWithGqaAndDocuments() {
        double[] q = normal(random, B * T * H * HD), k = normal(random, B * T * KVH * HD),
                v = normal(random, B * T * KVH * HD);
        double[] out = new double[q.length], lse = new double[B * T * H];
        Attention.forward(out, lse, q, k, v, DOCS, B, T, H, KVH, HD, Rounding.EXACT);
        double scale = 1 / Math.sqrt(HD);
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                int kh = h / (H / KVH);
                // S = Q Kᵀ·scale with an explicit mask matrix, then P = softmax(S), O = P V
                double[][] s = new double[T][T];
                for (int t = 0; t < T; t++) {
                    for (int u = 0; u < T; u++) {
                        boolean allowed = u <= t && DOCS[b * T + u] == DOCS[b * T + t];
                        double dot = 0;
                        for (int d = 0; d < HD; d++) {
                            dot += q[((b * T + t) * H + h) * HD + d] * k[((b * T + u) * KVH + kh) * HD + d];
                        }
                        s[t][u] = allowed ? dot * scale : Double.NEGATIVE_INFINITY;
                    }
                }
                for (int t = 0; t < T; t++) {
                    double z = 0;
                    for (int u = 0; u < T; u++) z += Math.exp(s[t][u]);
                    assertEquals(Math.log(z), lse[(b * T + t) * H + h], 1e-12);
                    for (int d = 0; d < HD; d++) {
                        double o = 0;
                        for (int u = 0; u < T; u++) o += Math.exp(s[t][u]) / z * v[((b * T + u) * KVH + kh) * HD + d];
                        assertEquals(o, out[((b * T + t) * H + h) * HD + d], 1e-12);
                    }
                }
            }
        }
    }

    @Test
    void firstTokenOfEachDocumentCopiesItsValue() {
        double[] q = normal(random, B * T * H * HD), k = normal(random, B * T * KVH * HD),
                v = normal(random, B * T * KVH * HD);
        double[] out = new double[q.length];
        Attention.forward(out, new double[B * T * H], q, k, v, DOCS, B, T, H, KVH, HD, Rounding.EXACT);
        for (int row : new int[] {0, 3, 5}) {
            for (int h = 0; h < H; h++) {
                for (int d = 0; d < HD; d++) {
                    assertEquals(v[(row * KVH + h / 2) * HD + d], out[(row * H + h) * HD + d], 1e-14);
                }
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesWithGqaAndDocuments() {
        gradientCheck(DOCS);
    }

    @Test
    void backwardMatchesFiniteDifferencesWithoutDocuments() {
        gradientCheck(new int[B * T]);
    }

    private void gradientCheck(int[] docs) {
        double[] q = normal(random, B * T * H * HD), k = normal(random, B * T * KVH * HD),
                v = normal(random, B * T * KVH * HD), g = normal(random, q.length);
        double[] out = new double[q.length], lse = new double[B * T * H];
        double[] dq = new double[q.length], dk = new double[k.length], dv = new double[v.length];
        java.util.Arrays.fill(dk, 99); // backward writes dk, dv: stale values must not leak in
        Attention.forward(out, lse, q, k, v, docs, B, T, H, KVH, HD, Rounding.EXACT);
        Attention.backward(dq, dk, dv, g, q, k, v, out, lse, docs, B, T, H, KVH, HD, Rounding.EXACT);
        double[] scratch = new double[q.length];
        DoubleSupplier loss = () -> {
            Attention.forward(scratch, new double[B * T * H], q, k, v, docs, B, T, H, KVH, HD, Rounding.EXACT);
            return dot(scratch, g);
        };
        check("attention dq", q, dq, loss);
        check("attention dk", k, dk, loss);
        check("attention dv", v, dv, loss);
    }

    @Test
    void overloadWithoutDocumentsEqualsAllZeroDocuments() {
        double[] q = normal(random, B * T * H * HD), k = normal(random, B * T * KVH * HD),
                v = normal(random, B * T * KVH * HD);
        double[] a = new double[q.length], b = new double[q.length];
        Attention.forward(a, new double[B * T * H], q, k, v, B, T, H, KVH, HD, Rounding.EXACT);
        Attention.forward(b, new double[B * T * H], q, k, v, new int[B * T], B, T, H, KVH, HD, Rounding.EXACT);
        assertArrayEquals(a, b);
    }

    @Test
    void rejectsHeadsNotMultipleOfKvHeads() {
        assertThrows(IllegalArgumentException.class, () -> Attention.forward(new double[60], new double[15],
                new double[60], new double[40], new double[40], 1, 5, 3, 2, 4, Rounding.EXACT));
    }
}
