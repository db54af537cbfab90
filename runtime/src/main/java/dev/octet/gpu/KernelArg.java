package dev.octet.gpu;

import jcuda.Pointer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** One value passed to a kernel: a device address for a buffer parameter, or a scalar. */
public sealed interface KernelArg {

    /** A device address: a buffer's base, or base + offset into an arena. */
    record DevicePointer(long address) implements KernelArg {}

    record I32(int value) implements KernelArg {}

    record F32(float value) implements KernelArg {}

    /** Where the value lives for JCuda's cuLaunchKernel: a host pointer to it. */
    default Pointer hostPointer() {
        return switch (this) {
            case DevicePointer p -> Pointer.to(new long[] {p.address()});
            case I32 i -> Pointer.to(new int[] {i.value()});
            case F32 f -> Pointer.to(new float[] {f.value()});
        };
    }

    /** The same for java.lang.foreign's cuLaunchKernelEx: the value copied into {@code arena}. */
    default MemorySegment allocate(Arena arena) {
        return switch (this) {
            case DevicePointer p -> arena.allocateFrom(JAVA_LONG, p.address());
            case I32 i -> arena.allocateFrom(JAVA_INT, i.value());
            case F32 f -> arena.allocateFrom(JAVA_FLOAT, f.value());
        };
    }
}
