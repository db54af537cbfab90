package dev.octet.gpu;

import jcuda.NativePointerObject;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The raw value of a JCuda handle (CUfunction, CUstream, CUdeviceptr), for the java.lang.foreign calls
 * JCuda 12.6 lacks. JCuda keeps it behind a protected accessor; both live on the class path, so a private
 * lookup reaches it.
 */
final class JCudaHandles {
    private JCudaHandles() {}

    private static final MethodHandle NATIVE_POINTER;

    static {
        try {
            NATIVE_POINTER = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup())
                    .findVirtual(NativePointerObject.class, "getNativePointer", MethodType.methodType(long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static long address(NativePointerObject handle) {
        try {
            return (long) NATIVE_POINTER.invoke(handle);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read the native handle of " + handle, t);
        }
    }
}
