package dev.octet.numerics;

import java.util.stream.IntStream;

/**
 * References for testing {@link Fp8Gemm} and the GPU kernels: the same product computed from the dequantized
 * operands, either exactly enough to serve as truth (float64) or the naive float32 way (one running sum over
 * all of K, no promotion) to show what promotion buys.
 */
public final class GemmReference {
    private GemmReference() {}

    /** {@code Σ_k deq(A)[i,k]·deq(B)[j,k]} in float64, where deq = decode·scale in float64. */
    public static double[] dequantizedFloat64(QuantizedMatrix a, QuantizedMatrix b) {
        return product(a, b, false);
    }

    /** {@code Σ_k |deq(A)[i,k]·deq(B)[j,k]|} in float64: the condition scale for error bounds. */
    public static double[] absoluteFloat64(QuantizedMatrix a, QuantizedMatrix b) {
        return product(a, b, true);
    }

    /** Dequantize both operands to float32, then one float32 running sum over all of K. */
    public static float[] naiveFloat32(QuantizedMatrix a, QuantizedMatrix b) {
        int k = a.cols();
        float[] av = a.dequantize();
        float[] bv = b.dequantize();
        int m = a.rows();
        int n = b.rows();
        float[] c = new float[m * n];
        IntStream.range(0, m).parallel().forEach(i -> {
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int kk = 0; kk < k; kk++) {
                    sum += av[i * k + kk] * bv[j * k + kk];
                }
                c[i * n + j] = sum;
            }
        });
        return c;
    }

    private static double[] product(QuantizedMatrix a, QuantizedMatrix b, boolean absolute) {
        if (a.cols() != b.cols()) {
            throw new IllegalArgumentException("K mismatch: " + a.cols() + " vs " + b.cols());
        }
        int k = a.cols();
        double[] av = dequantizedFloat64(a);
        double[] bv = dequantizedFloat64(b);
        int m = a.rows();
        int n = b.rows();
        double[] c = new double[m * n];
        IntStream.range(0, m).parallel().forEach(i -> {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int kk = 0; kk < k; kk++) {
                    double p = av[i * k + kk] * bv[j * k + kk];
                    sum += absolute ? Math.abs(p) : p;
                }
                c[i * n + j] = sum;
            }
        });
        return c;
    }

    private static double[] dequantizedFloat64(QuantizedMatrix q) {
        float[] values = q.decodeUnscaled();
        float[] scales = q.expandedScales();
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (double) values[i] * scales[i];
        }
        return out;
    }
}
