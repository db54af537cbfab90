package dev.octet.compiler.cuda;

import dev.octet.compiler.ir.DType;
import java.util.Objects;
import java.util.Optional;

/**
 * One parameter of a generated kernel, in the order of its CUDA signature. Buffers are passed as device
 * pointers (the runtime passes arena base + offset), or, when {@link #tensorMap} is present, as a TMA
 * descriptor that the runtime encodes over the same address ({@code const __grid_constant__ tensor_map_t}):
 * either way the plan binds a buffer, and only the launch argument differs. Scalars are passed by value.
 * Shapes are never parameters: they are compile-time constants of the source.
 */
public record KernelParam(String name, Kind kind, DType dtype, Access access, Optional<TensorMapView> tensorMap) {
    public enum Kind { BUFFER, SCALAR }

    public enum Access { READ, WRITE, READ_WRITE }

    public KernelParam {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(tensorMap, "tensorMap");
        if (tensorMap.isPresent() && kind != Kind.BUFFER) {
            throw new IllegalArgumentException("parameter " + name + ": only a buffer can be passed as a tensor map");
        }
    }

    public static KernelParam in(String name, DType dtype) {
        return new KernelParam(name, Kind.BUFFER, dtype, Access.READ, Optional.empty());
    }

    public static KernelParam out(String name, DType dtype) {
        return new KernelParam(name, Kind.BUFFER, dtype, Access.WRITE, Optional.empty());
    }

    public static KernelParam inOut(String name, DType dtype) {
        return new KernelParam(name, Kind.BUFFER, dtype, Access.READ_WRITE, Optional.empty());
    }

    public static KernelParam scalar(String name, DType dtype) {
        return new KernelParam(name, Kind.SCALAR, dtype, Access.READ, Optional.empty());
    }

    /** A buffer the kernel reads through TMA, viewed as {@code view} describes. */
    public static KernelParam tensorMapIn(String name, DType dtype, TensorMapView view) {
        return new KernelParam(name, Kind.BUFFER, dtype, Access.READ, Optional.of(view));
    }

    /**
     * A buffer the kernel writes through TMA stores ({@code WRITE}) or TMA reductions into it ({@code READ_WRITE}),
     * viewed as {@code view} describes.
     */
    public static KernelParam tensorMapOut(String name, DType dtype, Access access, TensorMapView view) {
        if (access == Access.READ) {
            throw new IllegalArgumentException("parameter " + name + ": an output tensor map is written");
        }
        return new KernelParam(name, Kind.BUFFER, dtype, access, Optional.of(view));
    }

    /**
     * The CUDA declaration: {@code const bf16_t* __restrict__ x}, {@code float* y}, {@code int n},
     * {@code const __grid_constant__ tensor_map_t a}.
     */
    public String cudaDeclaration() {
        if (tensorMap.isPresent()) {
            return "const __grid_constant__ tensor_map_t " + name;
        }
        return switch (kind) {
            case SCALAR -> dtype.cudaType() + " " + name;
            case BUFFER -> (access == Access.READ ? "const " : "") + dtype.cudaType() + "* __restrict__ " + name;
        };
    }
}
