package dev.octet.compiler.cuda.pointwise;

import dev.octet.compiler.cuda.CudaLiteral;

/** √(2/π) and 0.044715 of the tanh approximation, rounded to float once, here. */
final class GeluConstants {
    private GeluConstants() {}

    static final String SOURCE = "#define GELU_C " + CudaLiteral.f32((float) Math.sqrt(2 / Math.PI)) + "\n"
            + "#define GELU_A " + CudaLiteral.f32(0.044715f) + "\n\n";
}
