package dev.octet.compiler.cuda.pointwise;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelSpec;
import java.util.List;
import java.util.Optional;

/**
 * {@code h = silu(gate) · up} over {@code [rows, cols]} (rows = tokens, cols = FFN width); optionally also
 * quantized along cols for the down projection's fprop. Buffers: {@code h} (unless {@code writeBf16Output}
 * is false), [{@code h_codes}, {@code h_scales}], {@code gate}, {@code up}.
 */
public record SwiGluForward(int rows, int cols, Optional<GroupQuantization> quantizedOutput, boolean writeBf16Output)
        implements KernelSpec {
    /** {@code element(g, u, h)}: one element of h before its BF16 rounding (also how a wgrad operand recomputes h). */
    public static final String ELEMENT = Sigmoid.SOURCE + """
            __device__ __forceinline__ void element(float g, float u, float& h) {
                h = g * stable_sigmoid(g) * u;
            }
            """;

    /** BF16 output only. */
    public SwiGluForward(int rows, int cols) {
        this(rows, cols, Optional.empty(), true);
    }

    public SwiGluForward {
        template(rows, cols, quantizedOutput, writeBf16Output, "swiglu_forward");
    }

    @Override
    public String kernelName() {
        return "swiglu_forward_" + ElementwiseKernel.shapeName(rows, cols) + (writeBf16Output ? "" : "_nobf16")
                + GroupQuantization.nameSuffix(quantizedOutput);
    }

    @Override
    public CudaKernel emit() {
        return template(rows, cols, quantizedOutput, writeBf16Output, kernelName()).emit();
    }

    private static ElementwiseKernel template(int rows, int cols, Optional<GroupQuantization> quantizedOutput,
                                              boolean writeBf16Output, String name) {
        return new ElementwiseKernel(name, "SwiGLU forward: h = silu(gate) * up, silu(g) = g * sigmoid(g).",
                rows, cols, List.of("gate", "up"), List.of("h"), ELEMENT, quantizedOutput, writeBf16Output);
    }
}
