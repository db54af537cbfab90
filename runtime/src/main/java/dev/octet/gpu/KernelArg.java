package dev.octet.gpu;

import dev.octet.compiler.cuda.KernelParam;
import jcuda.Pointer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One value passed to a kernel: a device address for a buffer parameter, a TMA descriptor over a buffer for a
 * buffer parameter read through a tensor map, or a scalar.
 */
public sealed interface KernelArg {

    /** A device address: a buffer's base, or base + offset into an arena. */
    record DevicePointer(long address) implements KernelArg {}

    /** A tensor map over a buffer, encoded once per distinct spec ({@link TensorMaps}) when first launched. */
    record TensorMapArg(TensorMapSpec spec) implements KernelArg {}

    record I32(int value) implements KernelArg {}

    record F32(float value) implements KernelArg {}

    /**
     * The argument for buffer parameter {@code param} bound to the device address {@code address}: the pointer
     * itself, or the tensor map the parameter asks for over that address. Every binder (the step's arena, the
     * benchmarks, the kernel tests) goes through here, so a kernel's parameters mean the same everywhere.
     */
    static KernelArg buffer(KernelParam param, long address) {
        if (param.kind() != KernelParam.Kind.BUFFER) {
            throw new IllegalArgumentException("parameter " + param.name() + " is not a buffer");
        }
        return param.tensorMap().<KernelArg>map(view -> new TensorMapArg(TensorMapSpec.of(view, param.dtype(), address)))
                .orElseGet(() -> new DevicePointer(address));
    }

    /** Where the value lives for JCuda's cuLaunchKernel: a host pointer to it. */
    default Pointer hostPointer() {
        return switch (this) {
            case DevicePointer p -> Pointer.to(new long[] {p.address()});
            case TensorMapArg t -> Pointer.to(TensorMaps.encoded(t.spec()).bytes());
            case I32 i -> Pointer.to(new int[] {i.value()});
            case F32 f -> Pointer.to(new float[] {f.value()});
        };
    }

    /** The same for java.lang.foreign's cuLaunchKernelEx: the value copied into {@code arena}. */
    default MemorySegment allocate(Arena arena) {
        return switch (this) {
            case DevicePointer p -> arena.allocateFrom(JAVA_LONG, p.address());
            case TensorMapArg t -> arena.allocate(TensorMap.BYTES, 64).copyFrom(MemorySegment.ofArray(TensorMaps.encoded(t.spec()).bytes()));
            case I32 i -> arena.allocateFrom(JAVA_INT, i.value());
            case F32 f -> arena.allocateFrom(JAVA_FLOAT, f.value());
        };
    }
}
