package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.attention.AttentionKernels;
import dev.octet.compiler.cuda.attention.AttentionShape;
import dev.octet.compiler.cuda.gemm.GemmKernels;
import dev.octet.compiler.ir.DType;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CompileReport;
import dev.octet.gpu.KernelCompiler;
import dev.octet.gpu.NvrtcCompilers;
import org.openjdk.jmh.annotations.Param;

import java.util.ArrayList;
import java.util.List;

/**
 * Compiles every kernel the GPU benchmarks launch, at every value of their {@code @Param}s, into the compile
 * cache ({@code $OCTET_KERNEL_CACHE}). NVRTC needs no GPU, so scripts/gpu-bench fills a cache on the build
 * machine and carries it: the GPU machine's forks then load CUBINs instead of spending seconds per kernel in
 * NVRTC. The cache key holds the NVRTC version, so a different NVRTC there simply misses and compiles.
 *
 * <pre>java -cp octet-benchmarks.jar dev.octet.jmh.gpu.PrecompileKernels [threads]</pre>
 */
public final class PrecompileKernels {
    private PrecompileKernels() {}

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        List<CudaKernel> kernels = kernels();
        KernelCompiler compiler = NvrtcCompilers.open();
        CompileCache cache = new CompileCache(compiler, KernelCompiler.HOPPER, List.of());
        CompileReport report = cache.compileAll(kernels, threads);
        System.out.printf("precompiled %d benchmark kernels into %s with %s (%d were cached already): %.1f s%n",
                kernels.size(), cache.directory(), compiler.description(), report.hits(), report.wallMillis() / 1e3);
    }

    /** Every kernel of every benchmark at its default parameters, the input fills included. */
    static List<CudaKernel> kernels() {
        List<KernelSpec> specs = new ArrayList<>();
        for (String shape : values(Fp8GemmBenchmark.class, "shape")) {
            for (String recipe : values(Fp8GemmBenchmark.class, "recipe")) {
                specs.add(GemmKernels.forProblem(Fp8GemmBenchmark.problem(shape, recipe)));
            }
        }
        for (String shape : values(Bf16GemmBenchmark.class, "shape")) {
            specs.add(GemmKernels.forProblem(Bf16GemmBenchmark.problem(shape)));
        }
        for (String kind : values(QuantizeBenchmark.class, "kind")) {
            for (String model : values(QuantizeBenchmark.class, "model")) {
                for (String width : values(QuantizeBenchmark.class, "width")) {
                    specs.add(QuantizeBenchmark.kernelSpec(kind, model, width));
                }
            }
        }
        for (String model : values(RmsNormQuantizeBenchmark.class, "model")) {
            specs.add(RmsNormQuantizeBenchmark.spec(model));
        }
        for (String name : values(FlashAttentionForwardBenchmark.class, "shape")) {
            AttentionShape shape = AttentionShapes.named(name);
            // Every kernel the forward benchmark's kernel parameter names, at the default ring depth.
            for (String kernel : List.of("selected", "wgmma", "wgmma_pingpong", "wgmma_serial", "mma")) {
                specs.add(FlashAttentionForwardBenchmark.spec(shape, kernel, 0));
            }
        }
        for (String name : values(FlashAttentionBackwardBenchmark.class, "shape")) {
            AttentionShape shape = AttentionShapes.named(name);
            specs.add(AttentionKernels.forward(shape));
            for (String kernel : List.of("mma", "wgmma", "wgmma_dkdv")) {
                specs.addAll(FlashAttentionBackwardBenchmark.backward(shape, kernel).specs());
            }
        }
        for (String parameters : values(AdamWBenchmark.class, "parameters")) {
            specs.add(AdamWBenchmark.spec(Integer.parseInt(parameters)));
        }
        List<CudaKernel> kernels = new ArrayList<>(specs.stream().map(KernelSpec::emit).toList());
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.E4M3)) {
            kernels.add(DeviceFill.kernel(dtype));
        }
        for (DType dtype : List.of(DType.F32, DType.BF16)) {
            kernels.add(DeviceComparison.kernel(dtype));
        }
        return kernels.stream().distinct().toList();
    }

    private static List<String> values(Class<?> benchmark, String field) {
        try {
            return List.of(benchmark.getField(field).getAnnotation(Param.class).value());
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(benchmark.getSimpleName() + " has no @Param " + field, e);
        }
    }
}
