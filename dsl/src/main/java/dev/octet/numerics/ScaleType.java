package dev.octet.numerics;

/**
 * How a quantization scale is represented, and how it is chosen from a group's absolute maximum.
 *
 * <p><b>Convention.</b> The scale {@code s} is the <em>dequantization multiplier</em>: a value is stored as
 * {@code q = format.encode(x / s)} and read back as {@code x ≈ format.decode(q) · s}. (TransformerEngine's
 * {@code scale} is the reciprocal, {@code 1/s}; its {@code scale_inv} is our {@code s}.) A GEMM therefore
 * multiplies its partial sums by {@code sA · sB}.
 *
 * <ul>
 *   <li>{@link #FP32}: {@code s = amax / fmax}, so the group's largest element lands on the format's largest
 *       value (rounding of the division may push it a hair past; {@code .satfinite} clamps that).</li>
 *   <li>{@link #UE8M0}: {@code s = 2^ceil(log2(amax / fmax))}, the smallest power of two with
 *       {@code amax / s <= fmax}: rounded up, so no element ever saturates, and division by it is exact.
 *       The exponent is found from the bits of amax and fmax, never with a logarithm, because a log that is
 *       off by one ulp at an exact power of two would pick the wrong binade.</li>
 * </ul>
 *
 * <p>amax = 0 (an all-zero group) gives s = 1: any scale encodes zeros exactly and 1 keeps the scale tensor
 * finite. A non-finite or negative amax has no meaningful scale (the group holds inf or NaN, and dividing by an
 * inf or NaN scale would silently turn the whole group into NaN or zero), so {@link #scaleFor} throws
 * {@link IllegalArgumentException}; the caller decides whether that is a skipped step or a crash. Tiny amax
 * values are clamped from below (fp32: 2^-126, ue8m0: 2^-127, its smallest value) so a scale is never zero
 * or subnormal-with-lost-bits; such groups then use less than the full fp8 range, which is harmless.
 */
public enum ScaleType {
    FP32,
    UE8M0;

    /** UE8M0 holds 2^(E - 127) for E in [0, 254]; 255 is NaN. */
    public static final int UE8M0_BIAS = 127;

    /** The dequantization scale for a group whose largest magnitude is {@code amax}. */
    public float scaleFor(float amax, Fp8Format format) {
        if (!Float.isFinite(amax) || amax < 0) {
            throw new IllegalArgumentException("no scale for amax " + amax + ": the group holds a non-finite value");
        }
        if (amax == 0) {
            return 1.0f;
        }
        return switch (this) {
            case FP32 -> Math.max(amax / format.maxFinite(), Float.MIN_NORMAL);
            case UE8M0 -> Math.scalb(1.0f, powerOfTwoExponent(amax, format.maxFinite()));
        };
    }

    /** The 8-bit UE8M0 code of a power-of-two scale (what the GPU's scale tensor stores). */
    public static byte ue8m0Code(float scale) {
        int exponent = Math.getExponent(scale);
        if (scale <= 0 || !Float.isFinite(scale) || Math.scalb(1.0f, exponent) != scale
                || exponent < -UE8M0_BIAS || exponent > UE8M0_BIAS) {
            throw new IllegalArgumentException("not a UE8M0 value: " + scale);
        }
        return (byte) (exponent + UE8M0_BIAS);
    }

    public static float ue8m0Decode(byte code) {
        int e = code & 0xff;
        return e == 255 ? Float.NaN : Math.scalb(1.0f, e - UE8M0_BIAS);
    }

    /**
     * Smallest k with amax <= fmax * 2^k, clamped to UE8M0's range. Writing amax = ma·2^ea and fmax = mf·2^ef
     * with ma, mf in [1, 2): k = ea - ef when ma <= mf, else one more. Comparing the fraction bits compares
     * ma and mf exactly; going through double normalizes fp32 subnormals.
     */
    private static int powerOfTwoExponent(float amax, float fmax) {
        long fractionMask = (1L << 52) - 1;
        long amaxBits = Double.doubleToRawLongBits(amax);
        long fmaxBits = Double.doubleToRawLongBits(fmax);
        int k = Math.getExponent((double) amax) - Math.getExponent((double) fmax);
        if ((amaxBits & fractionMask) > (fmaxBits & fractionMask)) {
            k++;
        }
        return Math.clamp(k, -UE8M0_BIAS, UE8M0_BIAS);
    }

    /** The language's spelling, e.g. e4m3. */
    public String lowerName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
