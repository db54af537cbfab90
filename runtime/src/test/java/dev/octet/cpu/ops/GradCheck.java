package dev.octet.cpu.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.DoubleSupplier;

/**
 * Central finite differences in float64. With h = 1e-5 the truncation error is O(h²) ≈ 1e-10 and the cancellation
 * error ≈ 1e-16/h ≈ 1e-11 (relative to the loss), so the bound is {@code max|analytic − numeric| / max|numeric| < 1e-6}
 * over every element of the gradient (a norm-wise relative error in the max norm).
 */
final class GradCheck {
    private GradCheck() {}

    static final double H = 1e-5, TOLERANCE = 1e-6;

    /** Checks {@code analytic} = d loss / d input, perturbing every element of {@code input} in place. */
    static void check(String name, double[] input, double[] analytic, DoubleSupplier loss) {
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < input.length; i++) {
            double x = input[i];
            input[i] = x + H;
            double plus = loss.getAsDouble();
            input[i] = x - H;
            double minus = loss.getAsDouble();
            input[i] = x;
            double numeric = (plus - minus) / (2 * H);
            maxErr = Math.max(maxErr, Math.abs(numeric - analytic[i]));
            maxRef = Math.max(maxRef, Math.abs(numeric));
        }
        assertTrue(maxRef > 1e-8, name + ": numeric gradient is all zero, the check would prove nothing");
        double rel = maxErr / maxRef;
        assertTrue(rel < TOLERANCE, name + ": relative gradient error " + rel + " (max abs error " + maxErr + ")");
    }

    static double[] normal(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextGaussian();
        return a;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** {@code after − before}: what a backward that accumulates added. */
    static double[] added(double[] after, double[] before) {
        double[] d = new double[after.length];
        for (int i = 0; i < d.length; i++) d[i] = after[i] - before[i];
        return d;
    }

    static void assertBf16(String name, double[] a) {
        for (int i = 0; i < a.length; i++) {
            double x = a[i];
            assertTrue(dev.octet.numerics.Bf16.round(x) == x, name + "[" + i + "] = " + x + " is not a bf16 value");
        }
    }
}
