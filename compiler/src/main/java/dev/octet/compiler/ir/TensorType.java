package dev.octet.compiler.ir;

import java.util.List;
import java.util.stream.Collectors;

/** Shape and element type of an IR value; row-major, last dimension contiguous. */
public record TensorType(List<Integer> shape, DType dtype) {
    public TensorType {
        shape = List.copyOf(shape);
        for (int d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("dimensions must be positive: " + shape);
            }
        }
    }

    public static TensorType of(DType dtype, int... dims) {
        return new TensorType(java.util.Arrays.stream(dims).boxed().toList(), dtype);
    }

    public long elements() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    public long bytes() {
        return elements() * dtype.bytes();
    }

    public int dim(int i) {
        return shape.get(i < 0 ? shape.size() + i : i);
    }

    public TensorType withDtype(DType d) {
        return new TensorType(shape, d);
    }

    @Override
    public String toString() {
        return dtype.irName() + shape.stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }
}
