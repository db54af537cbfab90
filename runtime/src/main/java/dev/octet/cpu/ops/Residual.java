package dev.octet.cpu.ops;

/** Residual add {@code out = a + b}, elementwise over {@code n} values. */
public final class Residual {
    private Residual() {}

    /** {@code out} may alias {@code a} or {@code b}. */
    public static void forward(double[] out, double[] a, double[] b, int n, Rounding rounding) {
        for (int i = 0; i < n; i++) out[i] = rounding.apply(a[i] + b[i]);
    }

    /** {@code da = dout}, {@code db = dout} (both written). */
    public static void backward(double[] da, double[] db, double[] dout, int n) {
        System.arraycopy(dout, 0, da, 0, n);
        System.arraycopy(dout, 0, db, 0, n);
    }
}
