package dev.octet.compiler.plan;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Value;

/** What one kernel parameter is bound to: an IR value's buffer, or a scalar fixed at compile time. */
public sealed interface Argument {
    record Buffer(Value value) implements Argument {}

    record Scalar(DType dtype, double value) implements Argument {}
}
