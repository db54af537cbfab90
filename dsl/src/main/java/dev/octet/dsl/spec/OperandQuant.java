package dev.octet.dsl.spec;

import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;

/** How one operand of one FP8 GEMM is quantized. */
public record OperandQuant(Fp8Format format, Granularity granularity, ScaleType scaleType, Scaling scaling) {
    public String describe() {
        return granularity.describe() + " " + format.lowerName();
    }
}
