package dev.octet.compiler.cuda.pointwise;

/** The logistic function as dev.octet.cpu.ops.SwiGlu computes it: never the exp of a large positive number. */
final class Sigmoid {
    private Sigmoid() {}

    static final String SOURCE = """
            // 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below, with one exp and one division: a branch
            // per sign would run both in every warp of mixed signs, which SwiGLU's activations are.
            __device__ __forceinline__ float stable_sigmoid(float x) {
                const float e = expf(-fabsf(x));
                return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
            }

            """;
}
