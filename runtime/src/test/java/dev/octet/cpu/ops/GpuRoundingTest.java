package dev.octet.cpu.ops;

import static dev.octet.cpu.ops.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.octet.numerics.Bf16;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Under Rounding.GPU every stored activation and activation gradient is a bf16 value, and close to EXACT. */
class GpuRoundingTest {
    private final Random random = new Random(8);
    private static final Rounding GPU = Rounding.GPU;

    /** Random inputs that are already bf16, as the GPU's inputs would be. */
    private double[] bf16(int n) {
        double[] a = normal(random, n);
        for (int i = 0; i < n; i++) a[i] = Bf16.round(a[i]);
        return a;
    }

    @Test
    void embeddingsAndResidual() {
        int rows = 4, D = 6;
        double[] out = new double[rows * D], out2 = new double[rows * D];
        Embedding.forward(out, new int[] {1, 0, 2, 1}, normal(random, 3 * D), rows, 3, D, GPU);
        assertBf16("embedding", out);
        PositionEmbedding.forward(out2, out, normal(random, 8 * D), 1, rows, 8, D, GPU);
        assertBf16("position", out2);
        Residual.forward(out, out, out2, rows * D, GPU);
        assertBf16("residual", out);
    }

    @Test
    void norms() {
        int rows = 3, D = 16;
        double[] x = bf16(rows * D), w = bf16(D), b = bf16(D), g = bf16(rows * D);
        double[] out = new double[rows * D], exact = new double[rows * D], dx = new double[rows * D];
        double[] rstd = new double[rows], mean = new double[rows];
        RmsNorm.forward(out, rstd, x, w, rows, D, 1e-6, GPU);
        RmsNorm.forward(exact, new double[rows], x, w, rows, D, 1e-6, Rounding.EXACT);
        assertBf16("rmsnorm", out);
        assertClose(exact, out);
        RmsNorm.backward(dx, new double[D], g, x, w, rstd, rows, D, GPU);
        assertBf16("rmsnorm dx", dx);
        LayerNorm.forward(out, mean, rstd, x, w, b, rows, D, 1e-6, GPU);
        assertBf16("layernorm", out);
        LayerNorm.backward(dx, new double[D], new double[D], g, x, w, mean, rstd, rows, D, GPU);
        assertBf16("layernorm dx", dx);
    }

    @Test
    void ropeAndAttention() {
        int B = 2, T = 6, H = 4, KVH = 2, HD = 8;
        int[] pos = PositionEmbedding.sequentialPositions(B, T);
        double[] q = bf16(B * T * H * HD), k = bf16(B * T * KVH * HD), v = bf16(B * T * KVH * HD);
        Rope.forward(q, q, pos, B * T, H, HD, 10000, GPU);
        Rope.forward(k, k, pos, B * T, KVH, HD, 10000, GPU);
        assertBf16("rope q", q);
        assertBf16("rope k", k);
        double[] out = new double[q.length], exact = new double[q.length], lse = new double[B * T * H];
        Attention.forward(out, lse, q, k, v, B, T, H, KVH, HD, GPU);
        Attention.forward(exact, new double[B * T * H], q, k, v, B, T, H, KVH, HD, Rounding.EXACT);
        assertBf16("attention", out);
        assertClose(exact, out);
        double[] dq = new double[q.length], dk = new double[k.length], dv = new double[v.length];
        Attention.backward(dq, dk, dv, bf16(q.length), q, k, v, out, lse, B, T, H, KVH, HD, GPU);
        assertBf16("attention dq", dq);
        assertBf16("attention dk", dk);
        assertBf16("attention dv", dv);
        double[] dx = new double[q.length];
        Rope.backward(dx, dq, pos, B * T, H, HD, 10000, GPU);
        assertBf16("rope dx", dx);
    }

    @Test
    void linearActivationsAndLoss() {
        int M = 5, K = 12, N = 10;
        double[] x = bf16(M * K), w = bf16(N * K), y = new double[M * N], exact = new double[M * N];
        Linear.forward(y, x, w, bf16(N), M, K, N, GPU);
        Linear.forward(exact, x, w, M, K, N, Rounding.EXACT);
        assertBf16("linear", y);
        double[] dx = new double[M * K];
        Linear.backward(dx, new double[N * K], bf16(M * N), x, w, M, K, N, GPU);
        assertBf16("linear dx", dx);
        double[] h = new double[M * N], dg = new double[M * N], du = new double[M * N];
        SwiGlu.forward(h, y, exact, M * N, GPU);
        assertBf16("swiglu", h);
        SwiGlu.backward(dg, du, bf16(M * N), y, exact, M * N, GPU);
        assertBf16("swiglu dgate", dg);
        assertBf16("swiglu dup", du);
        Gelu.forward(h, y, M * N, GPU);
        assertBf16("gelu", h);
        Gelu.backward(dg, bf16(M * N), y, M * N, GPU);
        assertBf16("gelu dx", dg);
        double[] dlogits = new double[M * N];
        CrossEntropy.backward(dlogits, y, new int[] {1, 2, 3, 4, 5}, M, N, 1.0, GPU);
        assertBf16("cross-entropy dlogits", dlogits);
    }

    /** BF16 has 8 significant bits: relative error per value ≤ 2^-8, so the norm-wise error is below 1%. */
    private static void assertClose(double[] exact, double[] rounded) {
        double err = 0, ref = 0;
        for (int i = 0; i < exact.length; i++) {
            err += (exact[i] - rounded[i]) * (exact[i] - rounded[i]);
            ref += exact[i] * exact[i];
        }
        assertTrue(Math.sqrt(err / ref) < 1e-2, "bf16 result too far from exact: " + Math.sqrt(err / ref));
    }
}
