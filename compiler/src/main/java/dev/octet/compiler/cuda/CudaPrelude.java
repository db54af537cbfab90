package dev.octet.compiler.cuda;

import dev.octet.numerics.Fp8Format;

/**
 * The device helpers every generated kernel starts with. NVRTC 12.6 ships no cuda_fp8.h and its
 * cuda_bf16.h would tie the sources to one toolkit's headers, so BF16 and FP8 values travel as raw bits
 * ({@code bf16_t}, {@code fp8_t}) and conversions are single PTX instructions. Rounding matches
 * dev.octet.numerics bit for bit: BF16 and FP8 encodes are round-to-nearest-even, FP8 with saturation
 * (cvt.rn.satfinite, NaN → 0x7F), and power-of-two scales come from the exponent bits of amax and fmax.
 */
public final class CudaPrelude {
    private CudaPrelude() {}

    private static final String SOURCE = """
            typedef unsigned short bf16_t;
            typedef unsigned char fp8_t;

            __device__ __forceinline__ float bf16_to_f32(bf16_t h) {
                return __uint_as_float(((unsigned) h) << 16);
            }

            __device__ __forceinline__ bf16_t f32_to_bf16(float x) {
                bf16_t h;
                asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(x));
                return h;
            }

            // Two floats to two E4M3 codes in one 16-bit word: lo in the low byte, hi in the high byte.
            __device__ __forceinline__ unsigned short f32x2_to_e4m3x2(float lo, float hi) {
                unsigned short r;
                asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));
                return r;
            }

            __device__ __forceinline__ unsigned short f32x2_to_e5m2x2(float lo, float hi) {
                unsigned short r;
                asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));
                return r;
            }

            __device__ __forceinline__ fp8_t f32_to_e4m3(float x) {
                return (fp8_t) (f32x2_to_e4m3x2(x, 0.0f) & 0xff);
            }

            __device__ __forceinline__ fp8_t f32_to_e5m2(float x) {
                return (fp8_t) (f32x2_to_e5m2x2(x, 0.0f) & 0xff);
            }

            __device__ __forceinline__ float f16_bits_to_f32(unsigned short h) {
                float f;
                asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
                return f;
            }

            // FP8 → FP16 is exact for both formats, and FP16 → FP32 is exact.
            __device__ __forceinline__ float e4m3_to_f32(fp8_t c) {
                unsigned int pair;
                asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(pair) : "h"((unsigned short) c));
                return f16_bits_to_f32((unsigned short) (pair & 0xffff));
            }

            __device__ __forceinline__ float e5m2_to_f32(fp8_t c) {
                unsigned int pair;
                asm("cvt.rn.f16x2.e5m2x2 %0, %1;" : "=r"(pair) : "h"((unsigned short) c));
                return f16_bits_to_f32((unsigned short) (pair & 0xffff));
            }

            // UE8M0 scale: the smallest power of two s with amax / s <= fmax, exponent clamped to [-127, 127];
            // amax == 0 gives 1. Compares exponent and fraction bits, never a logarithm.
            __device__ __forceinline__ float pow2_scale(float amax, float fmax) {
                if (amax == 0.0f) return 1.0f;
                int shift = 0;
                if ((__float_as_uint(amax) >> 23) == 0) { amax *= 16777216.0f; shift = 24; }
                unsigned a = __float_as_uint(amax), f = __float_as_uint(fmax);
                int k = ((int) (a >> 23) - shift) - (int) (f >> 23) + ((a & 0x7fffff) > (f & 0x7fffff) ? 1 : 0);
                k = max(-127, min(127, k));
                return k == -127 ? __uint_as_float(0x00400000u) : __uint_as_float((unsigned) (k + 127) << 23);
            }

            // FP32 scale: amax / fmax, at least the smallest normal float; amax == 0 gives 1.
            __device__ __forceinline__ float fp32_scale(float amax, float fmax) {
                if (amax == 0.0f) return 1.0f;
                return fmaxf(__fdiv_rn(amax, fmax), 1.17549435e-38f);
            }

            __device__ __forceinline__ float warp_sum(float v) {
                for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
                return v;
            }

            __device__ __forceinline__ float warp_max(float v) {
                for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
                return v;
            }
            """;

    /** The prelude's function encoding one float as a code of {@code format}: {@code f32_to_e4m3} or {@code f32_to_e5m2}. */
    public static String encodeFunction(Fp8Format format) {
        return format == Fp8Format.E4M3 ? "f32_to_e4m3" : "f32_to_e5m2";
    }

    /** The prelude's function encoding two floats with one conversion: {@code f32x2_to_e4m3x2} or {@code f32x2_to_e5m2x2}. */
    public static String pairEncodeFunction(Fp8Format format) {
        return format == Fp8Format.E4M3 ? "f32x2_to_e4m3x2" : "f32x2_to_e5m2x2";
    }

    /** The helpers, to be placed after the kernel's header comment and before its code. */
    public static String source() {
        return SOURCE;
    }

    /**
     * A kernel source: a header comment (what it computes, for which shapes), the prelude, then the body.
     * {@code description} lines become comment lines.
     */
    public static String kernelSource(String description, String body) {
        StringBuilder sb = new StringBuilder("// Generated by Octet; do not edit.\n");
        for (String line : description.strip().split("\n")) {
            sb.append("// ").append(line).append('\n');
        }
        return sb.append('\n').append(SOURCE).append('\n').append(body.strip()).append('\n').toString();
    }
}
