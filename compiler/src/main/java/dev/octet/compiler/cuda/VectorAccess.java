package dev.octet.compiler.cuda;

import java.util.stream.IntStream;

/**
 * Device helpers that move {@code width} consecutive elements between global memory and a float array in
 * registers with one aligned load or store per 16 bytes: {@code load_bf16_vec}, {@code store_bf16_vec}
 * (rounds to nearest even), {@code load_f32_vec}, {@code store_f32_vec}, plus {@code bf16_round}. Kernels
 * that use them index buffers in multiples of {@code width} from 16-byte aligned bases, so every access is
 * aligned to its own size.
 */
public record VectorAccess(int width) {
    public VectorAccess {
        if (width != 1 && width != 2 && width != 4 && width != 8) {
            throw new IllegalArgumentException("vector width must be 1, 2, 4 or 8 elements: " + width);
        }
    }

    /** The widest of 8, 4, 2, 1 elements that divides {@code extent}. */
    public static VectorAccess widestDividing(int extent) {
        int w = IntStream.of(8, 4, 2, 1).filter(v -> extent % v == 0).findFirst().orElseThrow();
        return new VectorAccess(w);
    }

    /** The helpers, with {@code VEC} defined as the width. */
    public String source() {
        return "#define VEC " + width + "\n\n"
                + """
                __device__ __forceinline__ float bf16_round(float x) { return bf16_to_f32(f32_to_bf16(x)); }

                """
                + loadBf16() + "\n" + storeBf16() + "\n" + loadF32() + "\n" + storeF32();
    }

    private String loadBf16() {
        String head = "__device__ __forceinline__ void load_bf16_vec(const bf16_t* p, float* v) {\n";
        if (width == 1) {
            return head + "    v[0] = bf16_to_f32(*p);\n}\n";
        }
        int words = width / 2;
        return head + "    " + wordType(words) + " u = *reinterpret_cast<const " + wordType(words) + "*>(p);\n"
                + "    unsigned w[" + words + "] = {" + wordList(words) + "};\n"
                + "    #pragma unroll\n"
                + "    for (int k = 0; k < " + words + "; k++) {\n"
                + "        v[2 * k] = bf16_to_f32((bf16_t) (w[k] & 0xffffu));\n"
                + "        v[2 * k + 1] = bf16_to_f32((bf16_t) (w[k] >> 16));\n"
                + "    }\n}\n";
    }

    private String storeBf16() {
        String head = "__device__ __forceinline__ void store_bf16_vec(bf16_t* p, const float* v) {\n";
        if (width == 1) {
            return head + "    *p = f32_to_bf16(v[0]);\n}\n";
        }
        int words = width / 2;
        return head + "    unsigned w[" + words + "];\n"
                + "    #pragma unroll\n"
                + "    for (int k = 0; k < " + words + "; k++) {\n"
                + "        w[k] = (unsigned) f32_to_bf16(v[2 * k]) | ((unsigned) f32_to_bf16(v[2 * k + 1]) << 16);\n"
                + "    }\n"
                + "    *reinterpret_cast<" + wordType(words) + "*>(p) = " + wordType(words) + "{" + arrayList(words) + "};\n}\n";
    }

    private String loadF32() {
        StringBuilder sb = new StringBuilder("__device__ __forceinline__ void load_f32_vec(const float* p, float* v) {\n");
        if (width == 1) {
            return sb.append("    v[0] = *p;\n}\n").toString();
        }
        String type = width == 2 ? "float2" : "float4";
        int per = width == 2 ? 2 : 4;
        for (int chunk = 0; chunk < width / per; chunk++) {
            sb.append("    { ").append(type).append(" f = *reinterpret_cast<const ").append(type).append("*>(p + ")
                    .append(chunk * per).append(");");
            String[] fields = {"x", "y", "z", "w"};
            for (int k = 0; k < per; k++) {
                sb.append(" v[").append(chunk * per + k).append("] = f.").append(fields[k]).append(';');
            }
            sb.append(" }\n");
        }
        return sb.append("}\n").toString();
    }

    private String storeF32() {
        StringBuilder sb = new StringBuilder("__device__ __forceinline__ void store_f32_vec(float* p, const float* v) {\n");
        if (width == 1) {
            return sb.append("    *p = v[0];\n}\n").toString();
        }
        String type = width == 2 ? "float2" : "float4";
        int per = width == 2 ? 2 : 4;
        for (int chunk = 0; chunk < width / per; chunk++) {
            sb.append("    *reinterpret_cast<").append(type).append("*>(p + ").append(chunk * per).append(") = ")
                    .append(type).append('{');
            for (int k = 0; k < per; k++) {
                sb.append(k == 0 ? "" : ", ").append("v[").append(chunk * per + k).append(']');
            }
            sb.append("};\n");
        }
        return sb.append("}\n").toString();
    }

    private static String wordType(int words) {
        return switch (words) {
            case 1 -> "unsigned";
            case 2 -> "uint2";
            default -> "uint4";
        };
    }

    private static String wordList(int words) {
        return switch (words) {
            case 1 -> "u";
            case 2 -> "u.x, u.y";
            default -> "u.x, u.y, u.z, u.w";
        };
    }

    private static String arrayList(int words) {
        return switch (words) {
            case 1 -> "w[0]";
            case 2 -> "w[0], w[1]";
            default -> "w[0], w[1], w[2], w[3]";
        };
    }
}
