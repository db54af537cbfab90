package dev.octet.compiler.cuda.pointwise;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelSpec;
import java.util.List;
import java.util.Optional;

/**
 * GELU (tanh) backward over {@code [rows, cols]}: {@code dx = dy·(0.5(1 + t) + 0.5·x(1 − t²)·√(2/π)(1 + 3·0.044715·x²))}
 * with {@code t = tanh(√(2/π)(x + 0.044715·x³))}, written. Buffers: {@code dx}, {@code dy}, {@code x}.
 */
public record GeluBackward(int rows, int cols) implements KernelSpec {
    public GeluBackward {
        template(rows, cols, "gelu_backward");
    }

    @Override
    public String kernelName() {
        return "gelu_backward_" + ElementwiseKernel.shapeName(rows, cols);
    }

    @Override
    public CudaKernel emit() {
        return template(rows, cols, kernelName()).emit();
    }

    private static ElementwiseKernel template(int rows, int cols, String name) {
        return new ElementwiseKernel(name, "GELU backward (tanh approximation).", rows, cols, List.of("dy", "x"),
                List.of("dx"), GeluConstants.SOURCE + """
                __device__ __forceinline__ void element(float dy, float x, float& dx) {
                    const float t = tanhf(GELU_C * (x + GELU_A * x * x * x));
                    const float grad = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_A * x * x);
                    dx = dy * grad;
                }
                """, Optional.empty(), true);
    }
}
