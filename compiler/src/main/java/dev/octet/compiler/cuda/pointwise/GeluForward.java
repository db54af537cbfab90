package dev.octet.compiler.cuda.pointwise;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelSpec;
import java.util.List;
import java.util.Optional;

/**
 * GELU, tanh approximation, over {@code [rows, cols]}: {@code y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))};
 * optionally also quantized along cols. Buffers: {@code y} (unless {@code writeBf16Output} is false),
 * [{@code y_codes}, {@code y_scales}], {@code x}.
 */
public record GeluForward(int rows, int cols, Optional<GroupQuantization> quantizedOutput, boolean writeBf16Output)
        implements KernelSpec {
    /** {@code element(x, y)}: one element of y before its BF16 rounding (also how a wgrad operand recomputes y). */
    public static final String ELEMENT = GeluConstants.SOURCE + """
            __device__ __forceinline__ void element(float x, float& y) {
                y = 0.5f * x * (1.0f + tanhf(GELU_C * (x + GELU_A * x * x * x)));
            }
            """;

    /** BF16 output only. */
    public GeluForward(int rows, int cols) {
        this(rows, cols, Optional.empty(), true);
    }

    public GeluForward {
        template(rows, cols, quantizedOutput, writeBf16Output, "gelu_forward");
    }

    @Override
    public String kernelName() {
        return "gelu_forward_" + ElementwiseKernel.shapeName(rows, cols) + (writeBf16Output ? "" : "_nobf16")
                + GroupQuantization.nameSuffix(quantizedOutput);
    }

    @Override
    public CudaKernel emit() {
        return template(rows, cols, quantizedOutput, writeBf16Output, kernelName()).emit();
    }

    private static ElementwiseKernel template(int rows, int cols, Optional<GroupQuantization> quantizedOutput,
                                              boolean writeBf16Output, String name) {
        return new ElementwiseKernel(name, "GELU forward (tanh approximation).", rows, cols, List.of("x"),
                List.of("y"), ELEMENT, quantizedOutput, writeBf16Output);
    }
}
