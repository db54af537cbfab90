package dev.octet.compiler.cuda.quant;

import dev.octet.numerics.ScaleType;

/** How a kernel turns an amax into a scale and divides by it, per {@link ScaleType}. */
final class ScaleFormulas {
    private ScaleFormulas() {}

    /** {@code scale_for(amax_bits)}: ScaleType.scaleFor, with a NaN scale where the oracle would throw. */
    static String scaleFor(ScaleType scaleType) {
        return scaleFor(scaleType, "scale_for", "FMAX");
    }

    /** The same under another name, for the format whose largest finite value is the constant {@code fmax}. */
    static String scaleFor(ScaleType scaleType, String name, String fmax) {
        String formula = switch (scaleType) {
            case UE8M0 -> "pow2_scale";
            case FP32 -> "fp32_scale";
        };
        return """

                __device__ __forceinline__ float %s(unsigned amax_bits) {
                    return amax_is_finite(amax_bits) ? %s(__uint_as_float(amax_bits), %s) : nan_scale();
                }
                """.formatted(name, formula, fmax);
    }

    /**
     * {@code name(s)}: {@code 1 / s} rounded as {@code __frcp_rn}. A UE8M0 scale is a power of two, whose reciprocal
     * is exact: where it is a normal float it is the exponent mirrored, one integer subtraction instead of the
     * reciprocal's five instructions and range check (the quantize kernels issue one per group and lane); 2^127, the
     * subnormal 2^-127 and a NaN scale take {@code __frcp_rn}.
     */
    static String reciprocal(ScaleType scaleType, String name) {
        String body = switch (scaleType) {
            case UE8M0 -> """
                    const unsigned b = __float_as_uint(s);
                    return b - 0x00800000u <= 0x7e000000u ? __uint_as_float(0x7f000000u - b) : __frcp_rn(s);""";
            case FP32 -> "return __frcp_rn(s);";
        };
        return "\n__device__ __forceinline__ float " + name + "(float s) {\n" + body.indent(4) + "}\n";
    }

    /**
     * The expression for {@code v / s} given {@code s} and {@code inv_s = 1.0f / s}. The oracle divides; a
     * power of two's reciprocal is exact and x·2^-k rounds the same real number as x/2^k, so UE8M0 multiplies.
     */
    static String quotient(ScaleType scaleType) {
        return switch (scaleType) {
            case UE8M0 -> "v * inv_s";
            case FP32 -> "__fdiv_rn(v, s)";
        };
    }
}
