package dev.octet.gpu.kernels;

import dev.octet.numerics.Bf16;

/** Conversions between the arrays kernels use (floats, BF16 bits) and the double arrays of the CPU ops. */
public final class Numbers {
    private Numbers() {}

    public static float[] bf16ToFloat(short[] bits) {
        float[] x = new float[bits.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = Bf16.decode(bits[i]);
        }
        return x;
    }

    public static short[] bf16Bits(double[] x) {
        short[] bits = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            bits[i] = Bf16.encode((float) x[i]);
        }
        return bits;
    }

    public static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    public static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    /** Row-major {@code [rows, cols]} to row-major {@code [cols, rows]}. */
    public static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        return t;
    }

    public static double[] transpose(double[] x, int rows, int cols) {
        double[] t = new double[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        return t;
    }

    public static double[] bf16Round(double[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = Bf16.round(x[i]);
        }
        return r;
    }
}
