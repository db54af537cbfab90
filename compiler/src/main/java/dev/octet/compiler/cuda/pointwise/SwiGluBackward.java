package dev.octet.compiler.cuda.pointwise;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelSpec;
import java.util.List;
import java.util.Optional;

/**
 * SwiGLU backward over {@code [rows, cols]}: {@code dgate = dh·up·σ(g)(1 + g(1 − σ(g)))},
 * {@code dup = dh·silu(g)}, both written. Buffers: {@code dgate}, {@code dup}, {@code gate}, {@code up},
 * {@code dh}.
 */
public record SwiGluBackward(int rows, int cols) implements KernelSpec {
    /** {@code element(g, u, d, dgate, dup)}: one element of both gradients, in FP32 (their quantization recomputes them with it). */
    public static final String ELEMENT = Sigmoid.SOURCE + """
            __device__ __forceinline__ void element(float g, float u, float d, float& dgate, float& dup) {
                const float s = stable_sigmoid(g);
                dgate = d * u * s * (1.0f + g * (1.0f - s));
                dup = d * g * s;
            }
            """;

    public SwiGluBackward {
        template(rows, cols, "swiglu_backward");
    }

    @Override
    public String kernelName() {
        return "swiglu_backward_" + ElementwiseKernel.shapeName(rows, cols);
    }

    @Override
    public CudaKernel emit() {
        return template(rows, cols, kernelName()).emit();
    }

    private static ElementwiseKernel template(int rows, int cols, String name) {
        return new ElementwiseKernel(name, "SwiGLU backward: dgate = dh * up * s * (1 + g * (1 - s)), dup = dh * g * s, s = sigmoid(g).",
                rows, cols, List.of("gate", "up", "dh"), List.of("dgate", "dup"), ELEMENT, Optional.empty(), true);
    }
}
