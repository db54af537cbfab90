package dev.octet.compiler.cuda;

import dev.octet.compiler.ir.DType;

/**
 * One parameter of a generated kernel, in the order of its CUDA signature. Buffers are device pointers
 * (the runtime passes arena base + offset); scalars are passed by value. Shapes are never parameters:
 * they are compile-time constants of the source.
 */
public record KernelParam(String name, Kind kind, DType dtype, Access access) {
    public enum Kind { BUFFER, SCALAR }

    public enum Access { READ, WRITE, READ_WRITE }

    public static KernelParam in(String name, DType dtype) {
        return new KernelParam(name, Kind.BUFFER, dtype, Access.READ);
    }

    public static KernelParam out(String name, DType dtype) {
        return new KernelParam(name, Kind.BUFFER, dtype, Access.WRITE);
    }

    public static KernelParam inOut(String name, DType dtype) {
        return new KernelParam(name, Kind.BUFFER, dtype, Access.READ_WRITE);
    }

    public static KernelParam scalar(String name, DType dtype) {
        return new KernelParam(name, Kind.SCALAR, dtype, Access.READ);
    }

    /** The CUDA declaration: {@code const bf16_t* __restrict__ x}, {@code float* y}, {@code int n}. */
    public String cudaDeclaration() {
        return switch (kind) {
            case SCALAR -> dtype.cudaType() + " " + name;
            case BUFFER -> (access == Access.READ ? "const " : "") + dtype.cudaType() + "* __restrict__ " + name;
        };
    }
}
