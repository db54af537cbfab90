package dev.octet.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** CUresult names through java.lang.foreign (cuGetErrorName), for code that runs without JCuda. */
record ForeignDriverErrors(MethodHandle errorName) {

    ForeignDriverErrors(ForeignLibrary cuda) {
        this(cuda.function("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)));
    }

    /** {@code CUDA_ERROR_NO_DEVICE (100)}. */
    String describe(int result) {
        return name(result) + " (" + result + ")";
    }

    /** {@code CUDA_ERROR_NO_DEVICE}. */
    String name(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = (int) errorName.invokeExact(result, out);
            return rc == 0 ? ForeignLibrary.cString(out.get(ADDRESS, 0), "CUresult") : "CUresult";
        } catch (Throwable t) {
            return "CUresult";
        }
    }
}
