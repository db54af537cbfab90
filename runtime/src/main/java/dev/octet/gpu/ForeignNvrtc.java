package dev.octet.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * NVRTC through java.lang.foreign: the same seven calls JCuda makes, against whichever libnvrtc is given.
 * This is how CUDA 13's libnvrtc.so.13 is used (JCuda 12.6 is linked to the symbol-versioned .so.12).
 */
public final class ForeignNvrtc implements KernelCompiler {
    /** Sonames tried by {@link #openNewest}, newest first. */
    public static final List<String> LIBRARIES = List.of("libnvrtc.so.13", "libnvrtc.so.12");

    private final ForeignLibrary library;
    private final Calls calls;
    private final NvrtcVersion version;
    private final Path failedSourceDirectory;

    private ForeignNvrtc(ForeignLibrary library, Path failedSourceDirectory) {
        this.library = library;
        this.calls = new Calls(library);
        this.failedSourceDirectory = failedSourceDirectory;
        this.version = calls.version();
    }

    /** NVRTC from {@code soname}, when that library loads. */
    public static Optional<ForeignNvrtc> open(String soname, Path failedSourceDirectory) {
        return ForeignLibrary.open(soname).map(library -> new ForeignNvrtc(library, failedSourceDirectory));
    }

    public static Optional<ForeignNvrtc> open(String soname) {
        return open(soname, NvrtcCompilation.defaultFailedSourceDirectory());
    }

    /** The first of {@link #LIBRARIES} that loads. */
    public static Optional<ForeignNvrtc> openNewest(Path failedSourceDirectory) {
        for (String soname : LIBRARIES) {
            Optional<ForeignNvrtc> nvrtc = open(soname, failedSourceDirectory);
            if (nvrtc.isPresent()) {
                return nvrtc;
            }
        }
        return Optional.empty();
    }

    @Override
    public NvrtcVersion version() {
        return version;
    }

    @Override
    public String description() {
        return "NVRTC " + version + " via java.lang.foreign (" + library.soname() + ")";
    }

    @Override
    public CompiledKernel compile(String name, String source, String arch, List<String> options) {
        return NvrtcCompilation.compile(calls, description(), failedSourceDirectory, name, source, arch, options);
    }

    /** Program handles are {@code nvrtcProgram} pointers; every call allocates in its own confined arena. */
    private static final class Calls implements NvrtcCalls<MemorySegment> {
        private final MethodHandle versionCall;
        private final MethodHandle createProgram;
        private final MethodHandle compileProgram;
        private final MethodHandle logSize;
        private final MethodHandle log;
        private final MethodHandle cubinSize;
        private final MethodHandle cubin;
        private final MethodHandle destroyProgram;
        private final MethodHandle errorString;

        Calls(ForeignLibrary nvrtc) {
            versionCall = nvrtc.function("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            createProgram = nvrtc.function("nvrtcCreateProgram",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
            compileProgram = nvrtc.function("nvrtcCompileProgram",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
            logSize = nvrtc.function("nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            log = nvrtc.function("nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            cubinSize = nvrtc.function("nvrtcGetCUBINSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            cubin = nvrtc.function("nvrtcGetCUBIN", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            destroyProgram = nvrtc.function("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            errorString = nvrtc.function("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        }

        private void check(int result, String call, String kernel) {
            if (result != 0) {
                throw new NvrtcException(call, kernel, result, resultText(result));
            }
        }

        private static RuntimeException rethrow(Throwable t) {
            if (t instanceof RuntimeException r) {
                return r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            return new IllegalStateException(t);
        }

        @Override
        public NvrtcVersion version() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment major = arena.allocate(JAVA_INT), minor = arena.allocate(JAVA_INT);
                check((int) versionCall.invokeExact(major, minor), "nvrtcVersion", "(none)");
                return new NvrtcVersion(major.get(JAVA_INT, 0), minor.get(JAVA_INT, 0));
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        @Override
        public MemorySegment createProgram(String source, String programName, String kernel) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment handle = arena.allocate(ADDRESS);
                int result = (int) createProgram.invokeExact(handle, arena.allocateFrom(source),
                        arena.allocateFrom(programName), 0, MemorySegment.NULL, MemorySegment.NULL);
                check(result, "nvrtcCreateProgram", kernel);
                return handle.get(ADDRESS, 0);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        @Override
        public int compileProgram(MemorySegment program, List<String> options) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment argv = arena.allocate(ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) {
                    argv.setAtIndex(ADDRESS, i, arena.allocateFrom(options.get(i)));
                }
                return (int) compileProgram.invokeExact(program, options.size(), argv);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        @Override
        public String programLog(MemorySegment program, String kernel) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment size = arena.allocate(JAVA_LONG);
                check((int) logSize.invokeExact(program, size), "nvrtcGetProgramLogSize", kernel);
                MemorySegment text = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
                check((int) log.invokeExact(program, text), "nvrtcGetProgramLog", kernel);
                return text.getString(0);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        @Override
        public byte[] cubin(MemorySegment program, String kernel) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment size = arena.allocate(JAVA_LONG);
                check((int) cubinSize.invokeExact(program, size), "nvrtcGetCUBINSize", kernel);
                MemorySegment bytes = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
                check((int) cubin.invokeExact(program, bytes), "nvrtcGetCUBIN", kernel);
                return bytes.asSlice(0, size.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        @Override
        public void destroyProgram(MemorySegment program, String kernel) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment handle = arena.allocate(ADDRESS);
                handle.set(ADDRESS, 0, program);
                check((int) destroyProgram.invokeExact(handle), "nvrtcDestroyProgram", kernel);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        @Override
        public String resultText(int result) {
            try {
                return ForeignLibrary.cString((MemorySegment) errorString.invokeExact(result), "nvrtcResult");
            } catch (Throwable t) {
                return "nvrtcResult " + result;
            }
        }
    }
}
