package dev.octet.compiler.plan;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Value;

/** What one kernel parameter is bound to: an IR value's buffer, or a scalar fixed at compile time. */
public sealed interface Argument {
    /**
     * A buffer: the value's place in the arena plus {@code elementOffset} elements (a kernel that owns one
     * slot range of a shared scratch buffer, e.g. one gradient's partial sums for the global norm).
     */
    record Buffer(Value value, long elementOffset) implements Argument {
        public Buffer {
            if (elementOffset < 0 || elementOffset >= value.type().elements()) {
                throw new IllegalArgumentException("offset " + elementOffset + " outside " + value + " " + value.type());
            }
        }

        public Buffer(Value value) {
            this(value, 0);
        }

        /** Byte offset from the value's start. */
        public long byteOffset() {
            return elementOffset * value.type().dtype().bytes();
        }
    }

    record Scalar(DType dtype, double value) implements Argument {}
}
