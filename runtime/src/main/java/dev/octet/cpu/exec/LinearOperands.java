package dev.octet.cpu.exec;

/**
 * The CPU reference keeps activations and gradients in double; the FP8 quantizer reads FP32. These are the two
 * ways a linear layer's operand goes from one to the other: as it is, or transposed (the K-major operands of
 * dgrad and wgrad).
 */
public final class LinearOperands {
    private LinearOperands() {}

    /** {@code a} rounded to FP32, same layout. */
    public static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    /** A row-major {@code rows × cols} matrix as its transpose ({@code cols × rows}), rounded to FP32. */
    public static float[] transposeToFloat(double[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = (float) a[r * cols + c];
            }
        }
        return t;
    }
}
