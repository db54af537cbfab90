package dev.octet.numerics;

/**
 * The two OCP FP8 formats the H200 tensor cores consume.
 *
 * <p>{@link #E4M3} is the OCP "fn" variant: bias 7, no infinities, only S.1111.111 is NaN, so the top
 * binade keeps seven finite values and the largest is 448. {@link #E5M2} is IEEE-like: bias 15, ±inf at
 * S.11111.00, NaN above it, largest finite 57344.
 *
 * <p>{@link #encode} is exactly what {@code cvt.rn.satfinite.e4m3x2.f32} / {@code .e5m2x2.f32} produce for one
 * lane: round to nearest, ties to even (subnormals included), then {@code .satfinite}: a magnitude beyond the
 * largest finite value, and ±inf, become the sign-kept largest finite value; NaN stays NaN, always as the code
 * 0x7F (sign dropped). Verified bit for bit against {@code cvt} on an H200 (2026-11-28, 196,608 structured
 * inputs; see {@code Fp8HardwareAgreementTest}). The GPU tests compare kernels with this oracle exactly, so no
 * step here may be "approximately" the same.
 */
public enum Fp8Format {
    E4M3(4, 3, 7, false),
    E5M2(5, 2, 15, true);

    private final int exponentBits;
    private final int mantissaBits;
    private final int bias;
    private final boolean hasInfinity;
    /** Magnitude code (sign bit clear) of the largest finite value. */
    private final int maxCode;
    /** The NaN code that encode produces: 0x7F, sign dropped, as measured on the H200. */
    private final int nanCode;
    private final float maxFinite;
    /** Unbiased exponent of the smallest normal value. */
    private final int minNormalExponent;
    /** Unbiased exponent of the largest finite value. */
    private final int maxExponent;
    private final float[] decodeTable;

    Fp8Format(int exponentBits, int mantissaBits, int bias, boolean hasInfinity) {
        this.exponentBits = exponentBits;
        this.mantissaBits = mantissaBits;
        this.bias = bias;
        this.hasInfinity = hasInfinity;
        int allOnesExponent = (1 << exponentBits) - 1;
        // E5M2 gives the whole top binade to inf/NaN; E4M3fn gives only its last code to NaN.
        this.maxCode = hasInfinity ? (allOnesExponent << mantissaBits) - 1 : 0x7e;
        this.nanCode = 0x7f;
        this.minNormalExponent = 1 - bias;
        this.maxExponent = (maxCode >>> mantissaBits) - bias;
        this.decodeTable = new float[256];
        for (int code = 0; code < 256; code++) {
            decodeTable[code] = decodeSlow(code);
        }
        this.maxFinite = decodeTable[maxCode];
    }

    public int exponentBits() {
        return exponentBits;
    }

    public int mantissaBits() {
        return mantissaBits;
    }

    public int bias() {
        return bias;
    }

    public boolean hasInfinity() {
        return hasInfinity;
    }

    /** Largest finite magnitude: 448 for E4M3, 57344 for E5M2. */
    public float maxFinite() {
        return maxFinite;
    }

    /** Smallest positive subnormal: 2^-9 for E4M3, 2^-16 for E5M2. */
    public float minSubnormal() {
        return Math.scalb(1.0f, minNormalExponent - mantissaBits);
    }

    /** Unbiased exponent of the smallest normal value (-6 for E4M3, -14 for E5M2). */
    public int minNormalExponent() {
        return minNormalExponent;
    }

    public boolean isNaN(byte code) {
        return Float.isNaN(decode(code));
    }

    /** The float value of an 8-bit code; a table lookup because the GEMM oracle decodes every operand. */
    public float decode(byte code) {
        return decodeTable[code & 0xff];
    }

    /** Round-to-nearest-even with satfinite saturation, as PTX {@code cvt.rn.satfinite} does. */
    public byte encode(float x) {
        int bits = Float.floatToRawIntBits(x);
        int sign = (bits >>> 24) & 0x80;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (byte) nanCode; // the H200 returns the canonical positive NaN whatever the input's sign
        }
        if (abs < 0x00800000) {
            // zero or an fp32 subnormal: far below half the smallest fp8 subnormal, so it rounds to zero.
            return (byte) sign;
        }
        int exponent = (abs >>> 23) - 127;
        if (exponent > maxExponent) {
            return (byte) (sign | maxCode); // includes ±inf: .satfinite clamps it too
        }
        int significand = (abs & 0x7fffff) | 0x800000; // value = significand * 2^(exponent - 23)
        // The fp8 quantum (value of one unit in the last place) at this magnitude; below the normal range it
        // stays at the subnormal quantum, which is what makes gradual underflow come out of the same code path.
        int quantumExponent = Math.max(exponent, minNormalExponent) - mantissaBits;
        int shift = quantumExponent - (exponent - 23);
        if (shift > 25) {
            return (byte) sign; // below a quarter of the quantum: rounds to zero
        }
        int units = significand >>> shift;
        int remainder = significand & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (remainder > half || (remainder == half && (units & 1) == 1)) {
            units++;
        }
        int code;
        if (exponent < minNormalExponent) {
            code = units; // subnormal; units == 2^m carries into the smallest normal code, as it should
        } else {
            // units is in [2^m, 2^(m+1)]; the addition carries a mantissa overflow into the exponent field.
            code = ((exponent + bias) << mantissaBits) + units - (1 << mantissaBits);
        }
        return (byte) (sign | Math.min(code, maxCode));
    }

    /** x rounded to this format and back; the value the tensor core will see. */
    public float round(float x) {
        return decode(encode(x));
    }

    private float decodeSlow(int code) {
        boolean negative = (code & 0x80) != 0;
        int magnitude = code & 0x7f;
        int exponentField = magnitude >>> mantissaBits;
        int mantissa = magnitude & ((1 << mantissaBits) - 1);
        int allOnesExponent = (1 << exponentBits) - 1;
        float value;
        if (hasInfinity && exponentField == allOnesExponent) {
            value = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else if (!hasInfinity && magnitude == nanCode) {
            value = Float.NaN;
        } else if (exponentField == 0) {
            value = Math.scalb((float) mantissa, minNormalExponent - mantissaBits);
        } else {
            value = Math.scalb((float) ((1 << mantissaBits) | mantissa), exponentField - bias - mantissaBits);
        }
        return negative ? -value : value;
    }

    /** The language's spelling, e.g. e4m3. */
    public String lowerName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
