package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.norm.NormForward;
import dev.octet.compiler.cuda.pointwise.GeluForward;
import dev.octet.compiler.cuda.pointwise.SwiGluBackward;
import dev.octet.compiler.cuda.pointwise.SwiGluForward;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.QuantizedSource;
import java.util.ArrayList;
import java.util.List;

/**
 * How a {@link StagedTile} block fills its 16-byte chunk of input row {@code t} from column {@code c}: a load of
 * the tensor itself, or, for a {@link QuantizedSource} other than STORED, the tensor recomputed element by element
 * from the inputs of the operator that produced it, with that operator's own device function, so the staged BF16
 * values are the ones its forward kernel rounded (a weight's working copy: its master, rounded as AdamW rounds it).
 */
final class TileInput {
    private TileInput() {}

    /** The kernel's input parameters, in the order the Quantize node lists them. */
    static List<KernelParam> params(QuantizedSource source, DType stored) {
        if (source == QuantizedSource.STORED) {
            return List.of(KernelParam.in("x", stored));
        }
        List<KernelParam> params = new ArrayList<>();
        for (int i = 0; i < source.inputs().size(); i++) {
            params.add(KernelParam.in(source.inputs().get(i), source.inputType(i)));
        }
        return params;
    }

    /** {@code float recompute(inputs...)}: one element of the tensor before its BF16 rounding. */
    static String definitions(QuantizedSource source) {
        return definitions(source, false);
    }

    /**
     * With {@code siblings}, a kernel that also quantizes the source's {@link QuantizedSource#sibling} (the other output
     * of the same operator, from the same inputs): {@code recompute_both(inputs..., first, second)} gives both.
     */
    static String definitions(QuantizedSource source, boolean siblings) {
        List<String> args = source.inputs().stream().map(i -> "float " + i).toList();
        String signature = "__device__ __forceinline__ float recompute(" + String.join(", ", args) + ")";
        return switch (source) {
            case STORED -> "";
            case SWIGLU -> SwiGluForward.ELEMENT + signature + " {\n    float h;\n    element(gate, up, h);\n    return h;\n}\n";
            case GELU -> GeluForward.ELEMENT + signature + " {\n    float y;\n    element(u, y);\n    return y;\n}\n";
            case RMS_NORM -> NormForward.NORMALIZED + signature + " {\n    return rms_normalized(x, rstd, weight);\n}\n";
            case LAYER_NORM -> NormForward.NORMALIZED + signature
                    + " {\n    return layer_normalized(x, mean, rstd, weight, bias);\n}\n";
            case MASTER -> signature + " {\n    return master;\n}\n";
            case SWIGLU_GATE_GRADIENT, SWIGLU_UP_GRADIENT -> {
                String own = source == QuantizedSource.SWIGLU_GATE_GRADIENT ? "dgate" : "dup";
                String other = own.equals("dgate") ? "dup" : "dgate";
                if (siblings) {
                    String both = "__device__ __forceinline__ void recompute_both(" + String.join(", ", args) + ", float& first, float& second)";
                    yield SwiGluBackward.ELEMENT + both + " {\n    float dgate, dup;\n    element(gate, up, dh, dgate, dup);\n    first = "
                            + own + ";\n    second = " + other + ";\n}\n";
                }
                yield SwiGluBackward.ELEMENT + signature + " {\n    float dgate, dup;\n    element(gate, up, dh, dgate, dup);\n    return "
                        + own + ";\n}\n";
            }
        };
    }

    /**
     * Statements that declare {@code uint4 chunk} holding EPC input elements of row t from column c (zeros outside
     * the matrix, or where {@code inside} is false), and with {@code siblings} {@code uint4 chunk2}, the sibling's.
     */
    static String chunkLoad(QuantizedSource source, boolean siblings) {
        if (source == QuantizedSource.STORED) {
            return """
                        uint4 chunk = make_uint4(0u, 0u, 0u, 0u);
                        if (VECTOR_ROWS) {
                            if (inside && c < IN_COLS) chunk = *reinterpret_cast<const uint4*>(x + t * IN_COLS + c);
                        } else {
                            in_t* e = reinterpret_cast<in_t*>(&chunk);
                            #pragma unroll
                            for (int j = 0; j < EPC; j++) if (inside && c + j < IN_COLS) e[j] = x[t * IN_COLS + c + j];
                        }
                    """;
        }
        StringBuilder vectorLoads = new StringBuilder();
        List<String> vectorArgs = new ArrayList<>();
        List<String> scalarArgs = new ArrayList<>();
        StringBuilder rowLoads = new StringBuilder();
        for (int i = 0; i < source.inputs().size(); i++) {
            String input = source.inputs().get(i);
            switch (source.kind(i)) {
                case ELEMENT -> {
                    if (source.inputType(i) == DType.F32) {
                        // A chunk's EPC elements of FP32: two 16-byte loads.
                        vectorLoads.append("                const float4 v_").append(input).append("[2] = {*reinterpret_cast<const float4*>(")
                                .append(input).append(" + t * IN_COLS + c), *reinterpret_cast<const float4*>(").append(input)
                                .append(" + t * IN_COLS + c + 4)};\n");
                        vectorArgs.add("reinterpret_cast<const float*>(v_" + input + ")[j]");
                        scalarArgs.add(input + "[t * IN_COLS + c + j]");
                    } else {
                        vectorLoads.append("                const uint4 v_").append(input).append(" = *reinterpret_cast<const uint4*>(")
                                .append(input).append(" + t * IN_COLS + c);\n");
                        vectorArgs.add("bf16_to_f32(reinterpret_cast<const bf16_t*>(&v_" + input + ")[j])");
                        scalarArgs.add("bf16_to_f32(" + input + "[t * IN_COLS + c + j])");
                    }
                }
                case COLUMN -> {
                    vectorLoads.append("                const uint4 v_").append(input).append(" = *reinterpret_cast<const uint4*>(")
                            .append(input).append(" + c);\n");
                    vectorArgs.add("bf16_to_f32(reinterpret_cast<const bf16_t*>(&v_" + input + ")[j])");
                    scalarArgs.add("bf16_to_f32(" + input + "[c + j])");
                }
                case ROW -> {
                    rowLoads.append("        const float s_").append(input).append(" = ").append(input).append("[t];\n");
                    vectorArgs.add("s_" + input);
                    scalarArgs.add("s_" + input);
                }
            }
        }
        // One element (its index j): the tensor's, or with siblings the source's and the sibling's from one evaluation.
        String vectorArgList = String.join(", ", vectorArgs), scalarArgList = String.join(", ", scalarArgs);
        String vectorElement = siblings ? bothElements(vectorArgList) : "e[j] = f32_to_bf16(recompute(" + vectorArgList + "));";
        String scalarElement = siblings ? bothElements(scalarArgList) : "e[j] = f32_to_bf16(recompute(" + scalarArgList + "));";
        return """
                    uint4 chunk = make_uint4(0u, 0u, 0u, 0u);%s
                    if (inside) {
                        // %s
                        in_t* e = reinterpret_cast<in_t*>(&chunk);%s%s
                        if (VECTOR_ROWS) {
                            if (c < IN_COLS) {
                %s
                                #pragma unroll
                                for (int j = 0; j < EPC; j++) %s
                            }
                        } else {
                            #pragma unroll
                            for (int j = 0; j < EPC; j++) if (c + j < IN_COLS) %s
                        }
                    }
                """.formatted(siblings ? "\n    uint4 chunk2 = chunk;" : "",
                siblings ? "Both outputs recomputed from what they were made of, rounded to BF16 as their producer rounds them."
                        : "Recomputed from what the tensor was made of, rounded to BF16 as its producer rounds it.",
                siblings ? "\n        in_t* e2 = reinterpret_cast<in_t*>(&chunk2);" : "",
                rowLoads.isEmpty() ? "" : "\n" + rowLoads.toString().stripTrailing(), vectorLoads.toString().stripTrailing(),
                vectorElement, scalarElement);
    }

    /** Element j of the source into {@code e} and of its sibling into {@code e2}, from one {@code recompute_both}. */
    private static String bothElements(String args) {
        return "{ float v, v2; recompute_both(" + args + ", v, v2); e[j] = f32_to_bf16(v); e2[j] = f32_to_bf16(v2); }";
    }
}
