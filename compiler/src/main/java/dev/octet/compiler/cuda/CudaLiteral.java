package dev.octet.compiler.cuda;

/**
 * Float constants for generated sources. Hexadecimal literals name the exact float, so a constant such as
 * β1 = 0.9 reaches the kernel with the bits the CPU oracle computes with, whatever the compiler's decimal
 * parsing does.
 */
public final class CudaLiteral {
    private CudaLiteral() {}

    /** {@code 0x1.ccccccp-1f}: the exact bits of {@code value}; refuses inf and NaN, which have no literal. */
    public static String f32(float value) {
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException("no CUDA literal for the non-finite constant " + value);
        }
        if (value == 0) {
            return Float.floatToRawIntBits(value) == 0 ? "0.0f" : "-0.0f";
        }
        return Float.toHexString(value) + "f";
    }

    /** As {@link #f32} for a double constant (C++ {@code double}, no suffix). */
    public static String f64(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("no CUDA literal for the non-finite constant " + value);
        }
        if (value == 0) {
            return Double.doubleToRawLongBits(value) == 0 ? "0.0" : "-0.0";
        }
        return Double.toHexString(value);
    }
}
