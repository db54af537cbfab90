package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CompiledKernel;
import dev.octet.gpu.CudaContext;
import dev.octet.gpu.CudaStream;
import dev.octet.gpu.KernelCompiler;
import dev.octet.gpu.KernelFunction;
import dev.octet.gpu.LoadedModule;
import dev.octet.gpu.NvrtcCompilers;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The device, NVRTC, the compile cache and one stream, opened once per JVM and shared by every kernel test
 * class: a context and a compiler cost far more than the small kernels under test. Modules stay loaded for the
 * life of the JVM, keyed by source, so a kernel used by several tests compiles and loads once.
 */
public final class GpuSession {
    private static GpuSession instance;

    private final CudaContext context;
    private final KernelCompiler compiler;
    private final CompileCache cache;
    private final CudaStream stream;
    private final Map<String, KernelFunction> functions = new HashMap<>();

    private GpuSession(CudaContext context, KernelCompiler compiler) {
        this.context = context;
        this.compiler = compiler;
        this.cache = new CompileCache(compiler, KernelCompiler.HOPPER, List.of());
        this.stream = CudaStream.create();
    }

    /** Only call from tests that {@link RequiresCudaDevice} let run. */
    public static synchronized GpuSession get() {
        if (instance == null) {
            CudaContext context = CudaContext.open(0);
            KernelCompiler compiler = NvrtcCompilers.open();
            System.out.println("GPU kernel tests on " + context.info() + " with " + compiler.description()
                    + "; compile cache " + CompileCache.defaultDirectory());
            instance = new GpuSession(context, compiler);
        }
        instance.context.makeCurrent();
        return instance;
    }

    public DeviceWorkspace workspace() {
        context.makeCurrent();
        return new DeviceWorkspace(this);
    }

    /** The device's context, current on the calling thread after {@link #get}. */
    public CudaContext context() {
        return context;
    }

    /** The on-disk kernel cache every GPU test compiles through. */
    public CompileCache cache() {
        return cache;
    }

    CudaStream stream() {
        return stream;
    }

    /** The loaded entry point of {@code kernel}, compiled through the cache on first use. */
    synchronized KernelFunction function(CudaKernel kernel) {
        KernelFunction function = functions.get(kernel.source());
        if (function == null) {
            CompiledKernel compiled = cache.get(kernel);
            System.out.println("  compiled " + compiled);
            function = LoadedModule.load(compiled).function(kernel);
            functions.put(kernel.source(), function);
        }
        return function;
    }
}
