package dev.octet.gpu.exec;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CompileReport;
import dev.octet.gpu.CudaStream;
import dev.octet.gpu.KernelArg;
import dev.octet.gpu.KernelFunction;
import dev.octet.gpu.KernelLauncher;
import dev.octet.gpu.LoadedModule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The distinct kernels of a compiled plan, and those the runtime launches around it (the training state's),
 * compiled through the cache (misses in parallel) and loaded as modules into the current context, with what
 * queues launches on a stream.
 */
final class LoadedKernels implements AutoCloseable {
    private final CompileReport report;
    private final long loadMillis;
    private final List<LoadedModule> modules;
    private final Map<String, KernelFunction> functions;

    private LoadedKernels(CompileReport report, long loadMillis, List<LoadedModule> modules, Map<String, KernelFunction> functions) {
        this.report = report;
        this.loadMillis = loadMillis;
        this.modules = modules;
        this.functions = functions;
    }

    /** The plan's distinct kernels followed by those the runtime launches outside the plan, each once. */
    static List<CudaKernel> of(StepPlan plan, List<CudaKernel> runtimeKernels) {
        List<CudaKernel> kernels = new ArrayList<>(plan.distinctKernels().values());
        runtimeKernels.stream().filter(k -> !plan.distinctKernels().containsKey(k.name())).forEach(kernels::add);
        return kernels;
    }

    static LoadedKernels load(StepPlan plan, List<CudaKernel> runtimeKernels, CompileCache cache) {
        List<CudaKernel> kernels = of(plan, runtimeKernels);
        CompileReport report = cache.compileAll(kernels);
        long start = System.nanoTime();
        List<LoadedModule> modules = new ArrayList<>();
        Map<String, KernelFunction> functions = new HashMap<>();
        try {
            for (int i = 0; i < kernels.size(); i++) {
                LoadedModule module = LoadedModule.load(report.kernels().get(i));
                modules.add(module);
                functions.put(kernels.get(i).name(), module.function(kernels.get(i)));
            }
        } catch (RuntimeException e) {
            modules.forEach(LoadedModule::close);
            throw e;
        }
        return new LoadedKernels(report, (System.nanoTime() - start) / 1_000_000, modules, functions);
    }

    /** How the kernels were obtained: from the cache (warm) or compiled (cold), and how long it took. */
    CompileReport report() {
        return report;
    }

    /** One line: compile and module loading. */
    String summary() {
        return report.summary() + "; " + functions.size() + " modules loaded in " + loadMillis + " ms";
    }

    /** Queues the first {@code count} of {@code launches} on {@code stream}, with their bound arguments. */
    void launch(List<Launch> launches, List<List<KernelArg>> args, int count, CudaStream stream) {
        for (int i = 0; i < count; i++) {
            launch(launches.get(i), args.get(i), stream);
        }
    }

    void launch(Launch launch, List<KernelArg> args, CudaStream stream) {
        launch(launch.kernel(), args, stream);
    }

    void launch(CudaKernel kernel, List<KernelArg> args, CudaStream stream) {
        KernelFunction function = functions.get(kernel.name());
        if (function == null) {
            throw new IllegalStateException("kernel " + kernel.name() + " was not loaded with the step");
        }
        KernelLauncher.launch(function, kernel, stream, args);
    }

    @Override
    public void close() {
        modules.forEach(LoadedModule::close);
    }
}
