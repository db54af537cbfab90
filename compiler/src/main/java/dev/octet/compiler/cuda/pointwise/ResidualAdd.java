package dev.octet.compiler.cuda.pointwise;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelSpec;
import java.util.List;
import java.util.Optional;

/**
 * Residual add over {@code [rows, cols]}, summed in FP32 and rounded once to BF16. Out of place
 * (the forward stream): buffers {@code sum}, {@code a}, {@code b}, {@code sum = a + b}. In place (the
 * gradient stream, where a branch's input gradient joins the residual gradient): buffers {@code stream}
 * (read and written), {@code branch}, {@code stream = stream + branch}.
 */
public record ResidualAdd(int rows, int cols, boolean inPlace) implements KernelSpec {
    public ResidualAdd {
        template(rows, cols, inPlace, "residual_add");
    }

    /** The forward stream's {@code sum = a + b}. */
    public static ResidualAdd forward(int rows, int cols) {
        return new ResidualAdd(rows, cols, false);
    }

    /** The gradient stream's {@code stream += branch}. */
    public static ResidualAdd gradientStream(int rows, int cols) {
        return new ResidualAdd(rows, cols, true);
    }

    @Override
    public String kernelName() {
        return (inPlace ? "residual_accumulate_" : "residual_add_") + ElementwiseKernel.shapeName(rows, cols);
    }

    @Override
    public CudaKernel emit() {
        return template(rows, cols, inPlace, kernelName()).emit();
    }

    private static ElementwiseKernel template(int rows, int cols, boolean inPlace, String name) {
        String element = """
                __device__ __forceinline__ void element(float a, float b, float& sum) {
                    sum = a + b;
                }
                """;
        return inPlace
                ? new ElementwiseKernel(name, "Residual gradient stream: stream += branch (fp32 add, one bf16 rounding).",
                        rows, cols, List.of("stream", "branch"), List.of("stream"), element, Optional.empty(), true)
                : new ElementwiseKernel(name, "Residual add: sum = a + b (fp32 add, one bf16 rounding).",
                        rows, cols, List.of("a", "b"), List.of("sum"), element, Optional.empty(), true);
    }
}
