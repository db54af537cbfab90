package dev.octet.gpu.kernels;

import dev.octet.numerics.Bf16;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Compares a kernel's output with its oracle and prints one line with the measured figure and the bound, so
 * a run's log records how close each kernel came, not only that it passed. An element that is NaN or infinite
 * where the reference is finite (a poisoned element never written, or an overflow) fails whatever the bound.
 */
public final class Accuracy {
    private Accuracy() {}

    /**
     * {@code ‖actual − expected‖₂ / ‖expected‖₂ ≤ bound}, in double.
     *
     * @param what the kernel and output, for the log line
     */
    public static double relativeL2(String what, float[] actual, double[] expected, double bound) {
        requireSameLength(what, actual.length, expected.length);
        double diff = 0, norm = 0, maxAbs = 0;
        int worst = -1, nonFinite = 0;
        for (int i = 0; i < actual.length; i++) {
            if (!Float.isFinite(actual[i]) && Double.isFinite(expected[i])) {
                nonFinite++;
                continue;
            }
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
            if (Math.abs(d) > maxAbs) {
                maxAbs = Math.abs(d);
                worst = i;
            }
        }
        double error = norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
        String line = String.format(java.util.Locale.ROOT,
                "%s: relative L2 error %.3e (bound %.1e), max |diff| %.3e%s, %d elements", what, error, bound, maxAbs,
                worst < 0 ? "" : String.format(java.util.Locale.ROOT, " at %d (got %s, want %s)", worst,
                        actual[worst], (float) expected[worst]), actual.length);
        System.out.println("  " + line);
        if (nonFinite > 0) {
            int first = firstNonFinite(actual, expected);
            fail(what + ": " + nonFinite + " of " + actual.length + " elements are NaN or inf where the reference is"
                    + " finite (unwritten poison?), first at " + first + ": " + actual[first]);
        }
        if (!(error <= bound)) {
            fail(line);
        }
        return error;
    }

    public static double relativeL2(String what, float[] actual, float[] expected, double bound) {
        return relativeL2(what, actual, Numbers.toDouble(expected), bound);
    }

    /** |actual − expected| ≤ bound·|expected| for one number. */
    public static void relative(String what, double actual, double expected, double bound) {
        double error = expected == 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
        String line = String.format(java.util.Locale.ROOT, "%s: %s vs oracle %s, relative error %.3e (bound %.1e)",
                what, actual, expected, error, bound);
        System.out.println("  " + line);
        if (!(error <= bound)) {
            fail(line);
        }
    }

    /**
     * Every BF16 output within {@code maxUlps} units in the last place of BF16 from the oracle's BF16 value (ulps
     * counted on the BF16 grid, so the distance is the number of representable values in between plus one).
     */
    public static void bf16Ulps(String what, short[] actual, double[] expected, int maxUlps) {
        requireSameLength(what, actual.length, expected.length);
        int worst = 0, at = -1, beyond = 0;
        for (int i = 0; i < actual.length; i++) {
            int d = ulpDistance(actual[i], Bf16.encode((float) expected[i]));
            if (d > worst) {
                worst = d;
                at = i;
            }
            if (d > maxUlps) {
                beyond++;
            }
        }
        String line = String.format(java.util.Locale.ROOT, "%s: max %d BF16 ulps (bound %d)%s, %d of %d beyond", what,
                worst, maxUlps, at < 0 ? "" : " at " + at + " (got " + Bf16.decode(actual[at]) + ", want "
                        + (float) expected[at] + ")", beyond, actual.length);
        System.out.println("  " + line);
        if (beyond > 0) {
            fail(line);
        }
    }

    /**
     * {@link #bf16Ulps}, except that an element farther than {@code maxUlps} still passes where it lies within
     * {@code slack[i]} of the exact value: where a result cancels towards 0, one BF16 ulp of it is finer than the
     * rounding of the FP32 arithmetic that computed it, and {@code slack} bounds that rounding.
     *
     * @param exact the oracle's unrounded values
     */
    public static void bf16Ulps(String what, short[] actual, double[] exact, int maxUlps, double[] slack) {
        requireSameLength(what, actual.length, exact.length);
        requireSameLength(what + " (slack)", slack.length, exact.length);
        int worst = 0, at = -1, beyond = 0, excused = 0;
        for (int i = 0; i < actual.length; i++) {
            int d = ulpDistance(actual[i], Bf16.encode((float) exact[i]));
            if (d > maxUlps && Math.abs(Bf16.decode(actual[i]) - exact[i]) <= slack[i]) {
                excused++;
                continue;
            }
            if (d > worst) {
                worst = d;
                at = i;
            }
            if (d > maxUlps) {
                beyond++;
            }
        }
        String line = String.format(java.util.Locale.ROOT,
                "%s: max %d BF16 ulps (bound %d)%s, %d of %d beyond; %d more beyond but within the FP32 rounding slack",
                what, worst, maxUlps, at < 0 ? "" : " at " + at + " (got " + Bf16.decode(actual[at]) + ", want "
                        + (float) exact[at] + ")", beyond, actual.length, excused);
        System.out.println("  " + line);
        if (beyond > 0) {
            fail(line);
        }
    }

    public static void bitExact(String what, byte[] actual, byte[] expected) {
        requireSameLength(what, actual.length, expected.length);
        int differ = 0, first = -1;
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] != expected[i]) {
                differ++;
                first = first < 0 ? i : first;
            }
        }
        report(what, differ, actual.length, first < 0 ? "" : String.format(java.util.Locale.ROOT,
                ", first at %d: 0x%02x, want 0x%02x", first, actual[first] & 0xff, expected[first] & 0xff));
    }

    public static void bitExact(String what, short[] actual, short[] expected) {
        requireSameLength(what, actual.length, expected.length);
        int differ = 0, first = -1;
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] != expected[i]) {
                differ++;
                first = first < 0 ? i : first;
            }
        }
        report(what, differ, actual.length, first < 0 ? "" : String.format(java.util.Locale.ROOT,
                ", first at %d: 0x%04x, want 0x%04x", first, actual[first] & 0xffff, expected[first] & 0xffff));
    }

    /** Bit patterns equal (so -0 differs from 0 and any NaN from a number). */
    public static void bitExact(String what, float[] actual, float[] expected) {
        requireSameLength(what, actual.length, expected.length);
        int differ = 0, first = -1;
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
                differ++;
                first = first < 0 ? i : first;
            }
        }
        report(what, differ, actual.length, first < 0 ? "" : ", first at " + first + ": " + actual[first] + ", want "
                + expected[first]);
    }

    public static void bitExact(String what, int[] actual, int[] expected) {
        requireSameLength(what, actual.length, expected.length);
        int differ = 0, first = -1;
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] != expected[i]) {
                differ++;
                first = first < 0 ? i : first;
            }
        }
        report(what, differ, actual.length, first < 0 ? "" : ", first at " + first + ": " + actual[first] + ", want "
                + expected[first]);
    }

    private static void report(String what, int differ, int length, String firstDifference) {
        String line = what + ": " + differ + " of " + length + " differ (bound: bit-exact)" + firstDifference;
        System.out.println("  " + line);
        if (differ > 0) {
            fail(line);
        }
    }

    private static int ulpDistance(short a, short b) {
        return Math.abs(orderedBits(a) - orderedBits(b));
    }

    /** BF16 bits mapped to integers that order like the values (negative values below positive ones). */
    private static int orderedBits(short bits) {
        int v = bits & 0xffff;
        return (v & 0x8000) != 0 ? -(v & 0x7fff) : v;
    }

    private static int firstNonFinite(float[] actual, double[] expected) {
        for (int i = 0; i < actual.length; i++) {
            if (!Float.isFinite(actual[i]) && Double.isFinite(expected[i])) {
                return i;
            }
        }
        return -1;
    }

    private static void requireSameLength(String what, int actual, int expected) {
        if (actual != expected) {
            fail(what + ": " + actual + " elements, oracle has " + expected);
        }
    }
}
