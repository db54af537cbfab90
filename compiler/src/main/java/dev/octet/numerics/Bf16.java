package dev.octet.numerics;

/**
 * bfloat16: the upper 16 bits of an IEEE float32. Octet stores activations, the residual stream and
 * everything the recipe keeps out of FP8 in this format, so the CPU reference rounds to it wherever the
 * GPU stores a BF16 value. Rounding is to nearest, ties to even, as {@code cvt.rn.bf16.f32} does; NaN stays NaN.
 */
public final class Bf16 {
    private Bf16() {}

    /** The bf16 bit pattern nearest to {@code x}. */
    public static short encode(float x) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040); // quiet NaN, sign kept
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7fff + lsb) >>> 16);
    }

    public static float decode(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** {@code x} rounded to the nearest bf16 value, returned as a float. */
    public static float round(float x) {
        return decode(encode(x));
    }

    /** {@code x} rounded first to float32 (as the GPU's FP32 accumulator holds it), then to bf16. */
    public static double round(double x) {
        return round((float) x);
    }
}
