package dev.octet.compiler.cuda;

import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.ScaleType;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A quantized output fused into a kernel that produces a BF16 tensor {@code [rows, cols]}: FP8 codes
 * {@code [rows, cols]} plus one f32 dequantization scale per 1×{@code groupSize} group along cols, stored
 * {@code [rows, cols / groupSize]} row-major. Semantics are dev.octet.numerics.Quantizer's: the scale comes
 * from the group's amax ({@link ScaleType}), {@code code = encode(x / s)} with RNE and satfinite, and x is
 * the value after rounding to BF16, so the fused codes equal those of a separate pass over the stored tensor.
 *
 * <p>Kernels quantize in warp steps: a warp holds {@link #step} consecutive elements of one row, lane
 * {@code l} holding vectors {@code j·32·VEC + l·VEC} ({@code j < step / (32·VEC)}). A step is one group
 * (groups of at least 32·VEC) or 32·VEC elements split into groups of {@code groupSize / VEC} lanes.
 */
public record GroupQuantization(Fp8Format format, ScaleType scaleType, int groupSize) {
    public GroupQuantization {
        if (groupSize < 1) {
            throw new IllegalArgumentException("quantization group size must be positive: " + groupSize);
        }
    }

    public DType codeType() {
        return DType.of(format);
    }

    /** {@code e4m3_ue8m0_g128}: for kernel names. */
    public String nameSuffix() {
        return format.lowerName() + "_" + scaleType.lowerName() + "_g" + groupSize;
    }

    /** Elements one warp quantizes at a time with vectors of {@code width}. */
    public int step(VectorAccess vectors) {
        return Math.max(32 * vectors.width(), groupSize);
    }

    /**
     * The widest vectors whose warp steps tile a row of {@code cols} into whole groups.
     *
     * @throws IllegalArgumentException when the groups do not divide {@code cols} or fit no warp step
     */
    public VectorAccess widestVectorsFor(int cols, String kernel) {
        if (cols % groupSize != 0) {
            throw new IllegalArgumentException(kernel + ": quantization group size " + groupSize
                    + " does not divide the row length " + cols);
        }
        return IntStream.of(8, 4, 2, 1).mapToObj(VectorAccess::new).filter(v -> tiles(v, cols)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(kernel + ": quantization group size " + groupSize
                        + " is neither a multiple nor a power-of-two fraction of a warp's 32·VEC elements"));
    }

    private boolean tiles(VectorAccess v, int cols) {
        int warpSpan = 32 * v.width();
        boolean groupFits = groupSize % v.width() == 0 && (groupSize % warpSpan == 0 || warpSpan % groupSize == 0);
        return groupFits && cols % step(v) == 0;
    }

    /**
     * Device code defining {@code quantize_step(vals, codes, scales, lane)}: quantizes the lane's
     * {@code step / 32} values of one warp step ({@code vals}, already BF16-exact) into {@code codes} (the
     * step's first element) and {@code scales} (the step's first group). Needs {@link VectorAccess#source()}
     * and {@link CudaPrelude}.
     */
    public String source(VectorAccess vectors) {
        int vec = vectors.width();
        int step = step(vectors);
        String ratio = switch (scaleType) {
            // A power of two has an exact reciprocal, so multiplying by it is the division, bit for bit.
            case UE8M0 -> "v[k] * inv";
            case FP32 -> "__fdiv_rn(v[k], s)";
        };
        String scale = switch (scaleType) {
            case UE8M0 -> "pow2_scale";
            case FP32 -> "fp32_scale";
        };
        String pairEncode = CudaPrelude.pairEncodeFunction(format);
        String singleEncode = CudaPrelude.encodeFunction(format);
        String store = switch (vec) {
            case 1 -> "    *p = " + singleEncode + "(q[0]);\n";
            case 2 -> "    *reinterpret_cast<unsigned short*>(p) = " + pairEncode + "(q[0], q[1]);\n";
            case 4 -> "    *reinterpret_cast<unsigned*>(p) = " + pairWord(pairEncode, 0) + ";\n";
            default -> "    *reinterpret_cast<uint2*>(p) = uint2{" + pairWord(pairEncode, 0) + ", "
                    + pairWord(pairEncode, 4) + "};\n";
        };
        String storeCodes = "// Encodes VEC values as x / s, RNE with saturation.\n"
                + "__device__ __forceinline__ void store_codes_vec(fp8_t* p, const float* v, float s) {\n"
                + (scaleType == ScaleType.UE8M0 ? "    const float inv = 1.0f / s;\n" : "")
                + "    float q[VEC];\n"
                + "    #pragma unroll\n"
                + "    for (int k = 0; k < VEC; k++) q[k] = " + ratio + ";\n"
                + store + "}\n";
        String stepBody;
        if (groupSize >= 32 * vec) {
            stepBody = """
                    // One group per step, spread over the whole warp.
                    __device__ __forceinline__ void quantize_step(const float* vals, fp8_t* codes, float* scales, int lane) {
                        float amax = 0.0f;
                        #pragma unroll
                        for (int i = 0; i < QUANT_STEP / 32; i++) amax = fmaxf(amax, fabsf(vals[i]));
                        amax = warp_max(amax);
                        const float s = %s(amax, FP8_MAX);
                        if (lane == 0) scales[0] = s;
                        #pragma unroll
                        for (int j = 0; j < QUANT_STEP / (32 * VEC); j++) store_codes_vec(codes + j * 32 * VEC + lane * VEC, vals + j * VEC, s);
                    }
                    """.formatted(scale);
        } else {
            stepBody = """
                    // 32 / LANES_PER_GROUP groups per step, each held by LANES_PER_GROUP neighbouring lanes.
                    #define LANES_PER_GROUP %d
                    __device__ __forceinline__ void quantize_step(const float* vals, fp8_t* codes, float* scales, int lane) {
                        float amax = 0.0f;
                        #pragma unroll
                        for (int k = 0; k < VEC; k++) amax = fmaxf(amax, fabsf(vals[k]));
                        #pragma unroll
                        for (int o = LANES_PER_GROUP / 2; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
                        const float s = %s(amax, FP8_MAX);
                        if (lane %% LANES_PER_GROUP == 0) scales[lane / LANES_PER_GROUP] = s;
                        store_codes_vec(codes + lane * VEC, vals, s);
                    }
                    """.formatted(groupSize / vec, scale);
        }
        return "#define QUANT_GROUP " + groupSize + "\n"
                + "#define QUANT_STEP " + step + "\n"
                + "#define FP8_MAX " + CudaLiteral.f32(format.maxFinite()) + "\n\n"
                + storeCodes + "\n" + stepBody;
    }

    private static String pairWord(String encode, int first) {
        return "((unsigned) " + encode + "(q[" + first + "], q[" + (first + 1) + "]) | ((unsigned) " + encode
                + "(q[" + (first + 2) + "], q[" + (first + 3) + "]) << 16))";
    }

    /** Empty-safe helper for names: {@code _q_e4m3_ue8m0_g128} or nothing. */
    public static String nameSuffix(Optional<GroupQuantization> quantization) {
        return quantization.map(q -> "_q_" + q.nameSuffix()).orElse("");
    }
}
