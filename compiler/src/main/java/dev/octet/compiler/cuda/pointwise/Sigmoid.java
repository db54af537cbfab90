package dev.octet.compiler.cuda.pointwise;

/** The logistic function as dev.octet.cpu.ops.SwiGlu computes it: never the exp of a large positive number. */
final class Sigmoid {
    private Sigmoid() {}

    static final String SOURCE = """
            __device__ __forceinline__ float stable_sigmoid(float x) {
                if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
                const float e = expf(x);
                return e / (1.0f + e);
            }

            """;
}
