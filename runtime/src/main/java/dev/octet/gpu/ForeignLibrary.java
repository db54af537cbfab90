package dev.octet.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * A shared library opened through java.lang.foreign (dlopen, so LD_LIBRARY_PATH applies). Unlike JNI
 * bindings, a missing library is an ordinary {@link Optional#empty()}, which is what lets the runtime look
 * for CUDA before it touches JCuda. Libraries stay loaded for the life of the process, as the driver must.
 */
public record ForeignLibrary(String soname, SymbolLookup symbols) {

    public static Optional<ForeignLibrary> open(String soname) {
        try {
            return Optional.of(new ForeignLibrary(soname, SymbolLookup.libraryLookup(soname, Arena.global())));
        } catch (IllegalArgumentException | IllegalCallerException | UnsatisfiedLinkError notLoadable) {
            return Optional.empty();
        }
    }

    /** A downcall to {@code symbol}; a missing symbol names the library, e.g. a driver too old for it. */
    public MethodHandle function(String symbol, FunctionDescriptor descriptor) {
        MemorySegment address = symbols.find(symbol)
                .orElseThrow(() -> new IllegalStateException(soname + " has no symbol " + symbol));
        return Linker.nativeLinker().downcallHandle(address, descriptor);
    }

    /** The NUL-terminated C string at {@code address}, or {@code fallback} for a null pointer. */
    static String cString(MemorySegment address, String fallback) {
        return address.equals(MemorySegment.NULL) ? fallback : address.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
