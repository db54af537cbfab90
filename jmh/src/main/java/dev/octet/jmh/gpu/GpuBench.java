package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.ir.DType;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CompiledKernel;
import dev.octet.gpu.CudaAvailability;
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
 * What every GPU benchmark of one JVM shares: device 0's context, NVRTC with the on-disk compile cache, one
 * stream, and the modules loaded so far (keyed by source, so a kernel compiles and loads once per JVM and,
 * through the cache, once per machine). Opening it where the probe says Unavailable fails with the probe's one
 * line; {@link dev.octet.jmh.BenchmarkMain} leaves the GPU benchmarks out before that can happen.
 */
public final class GpuBench {
    private static GpuBench instance;

    private final CudaContext context;
    private final CompileCache cache;
    private final CudaStream stream;
    private final DeviceFill fill;
    private final Map<String, KernelFunction> functions = new HashMap<>();

    private GpuBench(CudaContext context, KernelCompiler compiler) {
        this.context = context;
        this.cache = new CompileCache(compiler, KernelCompiler.HOPPER, List.of());
        this.stream = CudaStream.create();
        this.fill = new DeviceFill(this);
    }

    /** The session of this JVM, current on the calling thread. */
    public static synchronized GpuBench get() {
        if (instance == null) {
            if (CudaAvailability.probe() instanceof CudaAvailability.Unavailable why) {
                throw new IllegalStateException("GPU benchmark skipped: " + why.reason());
            }
            CudaContext context = CudaContext.open(0);
            KernelCompiler compiler = NvrtcCompilers.open();
            System.out.println("GPU benchmarks on " + context.info() + " with " + compiler.description()
                    + "; compile cache " + CompileCache.defaultDirectory());
            instance = new GpuBench(context, compiler);
        }
        instance.makeCurrent();
        return instance;
    }

    /** JMH may run setup and the measured method on different threads: driver calls act on the current context. */
    public void makeCurrent() {
        context.makeCurrent();
    }

    public CudaStream stream() {
        return stream;
    }

    public CudaContext context() {
        return context;
    }

    public CompileCache cache() {
        return cache;
    }

    public DeviceFill fill() {
        return fill;
    }

    /** A new set of buffers for one benchmark trial; close it in the trial's teardown. */
    public DeviceTensors tensors() {
        makeCurrent();
        return new DeviceTensors(this);
    }

    /** The loaded entry point of {@code kernel}, compiled through the cache on first use. */
    synchronized KernelFunction function(CudaKernel kernel) {
        KernelFunction function = functions.get(kernel.source());
        if (function == null) {
            long start = System.nanoTime();
            CompiledKernel compiled = cache.get(kernel);
            function = LoadedModule.load(compiled).function(kernel);
            functions.put(kernel.source(), function);
            System.out.printf("  kernel %s ready in %.0f ms (%s)%n", kernel.name(), (System.nanoTime() - start) / 1e6, compiled);
        }
        return function;
    }

    /** Bytes of one element, for traffic counts. */
    static long bytes(DType dtype, long elements) {
        return elements * dtype.bytes();
    }
}
