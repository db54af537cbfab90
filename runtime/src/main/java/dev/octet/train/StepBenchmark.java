package dev.octet.train;

import dev.octet.compiler.Lowering;
import dev.octet.compiler.plan.DeviceMemoryPlan;
import dev.octet.compiler.plan.LaunchCost;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.data.Batch;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CudaContext;
import dev.octet.gpu.KernelCompiler;
import dev.octet.gpu.NvrtcCompilers;
import dev.octet.gpu.exec.DeviceStep;
import dev.octet.gpu.exec.MicroBatchInputs;
import dev.octet.gpu.exec.StepScalars;
import dev.octet.numerics.InitialWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Times a training block's step on device 0 as {@code octet train --device cuda} runs it: the compiled plan
 * loaded once, then per step the step scalars, each micro-batch's inputs and a replay of its graph, the optimizer
 * graph and the one host wait that ends the step. Each step is timed on
 * the host from its first call to the end of its last wait, as TrainingStepBenchmark times it; the batches
 * are seeded random tokens (the time of a step does not depend on the data). Device memory is read with
 * cuMemGetInfo before the step is loaded and after loading, capturing and every step; the largest is the peak.
 */
public final class StepBenchmark {
    private StepBenchmark() {}

    /**
     * Compiles, checks the plan against the free device memory (refusing as {@code octet train} does), compiles
     * the kernels (cold into an empty cache first when asked), loads the step, runs the warm-up and timed steps.
     * {@code report} gets the planned against the free device memory.
     *
     * @throws DeviceMemoryShortfallException before anything of the step is allocated, when it does not fit
     */
    public static BenchMeasurement run(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, BenchOptions options,
                                       Consumer<String> report) {
        long start = System.nanoTime();
        StepPlan plan = Lowering.compile(GpuBackend.target(model, recipe, spec, options.lossWorkspaceBytes()), Lowering.QUIET);
        long planMillis = (System.nanoTime() - start) / 1_000_000;
        Path scratch = null;
        try (CudaContext context = CudaContext.open(0)) {
            GpuBackend.requireFit(new DeviceMemoryBudget(DeviceMemoryPlan.of(plan), context.memoryInfo()), model, recipe,
                    spec, options.lossWorkspaceBytes(), report);
            KernelCompiler compiler = NvrtcCompilers.open();
            long usedBefore = context.memoryInfo().usedBytes();
            CompileCache cache;
            Optional<BenchMeasurement.KernelCompile> cold = Optional.empty();
            if (options.coldCompile()) {
                scratch = Files.createTempDirectory("octet-bench-kernels");
                cache = new CompileCache(compiler, scratch, KernelCompiler.HOPPER, List.of());
                cold = Optional.of(BenchMeasurement.KernelCompile.of(
                        cache.compileAll(DeviceStep.kernels(plan))));
            } else {
                cache = new CompileCache(compiler, KernelCompiler.HOPPER, List.of());
            }
            try (DeviceStep step = DeviceStep.load(context, plan, cache)) {
                BenchMeasurement.KernelCompile load = BenchMeasurement.KernelCompile.of(step.compileReport());
                step.initialize(spec.seed(), InitialWeights.of(model));
                step.captureGraphs();
                context.synchronize();
                long peak = context.memoryInfo().usedBytes();
                List<MicroBatchInputs> inputs = randomInputs(model, spec);
                float lossWeight = MicroBatchInputs.lossWeight(inputs);
                float loss = Float.NaN;
                long n = 0;
                for (int i = 0; i < options.warmup(); i++) {
                    loss = step(step, inputs, lossWeight, spec.optimizer(), ++n);
                }
                peak = Math.max(peak, context.memoryInfo().usedBytes());
                List<Double> millis = new ArrayList<>();
                for (int i = 0; i < options.steps(); i++) {
                    long t = System.nanoTime();
                    loss = step(step, inputs, lossWeight, spec.optimizer(), ++n);
                    millis.add((System.nanoTime() - t) / 1e6);
                    peak = Math.max(peak, context.memoryInfo().usedBytes());
                }
                Optional<StepProfile> profile = Optional.empty();
                if (options.profile()) {
                    TrainingSpec.AdamW opt = spec.optimizer();
                    DeviceStep.LaunchTimes times = step.timeLaunches(StepScalars.of(opt.lr(), opt.beta1(), opt.beta2(), ++n),
                            lossWeight, inputs);
                    profile = Optional.of(StepProfile.of(LaunchCost.of(plan), times.millis(), times.method(),
                            MemoryCeiling.of(context.info().deviceName())));
                }
                return new BenchMeasurement(model.name(), spec.name(), recipe.name(), GemmPeak.of(recipe),
                        context.info().deviceName(), spec.microBatch(), spec.accumulation(), spec.seqLen(),
                        plan.flopsPerStep(), options.warmup(), millis, plan.memory().arenaBytes(), usedBefore, peak,
                        context.memoryInfo().totalBytes(), planMillis, cold, load, loss, profile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a scratch kernel cache for the cold compile", e);
        } finally {
            deleteQuietly(scratch);
        }
    }

    /** One step as GpuBackend runs it without FP8 health: one host wait, at the end. */
    private static float step(DeviceStep device, List<MicroBatchInputs> inputs, float lossWeight, TrainingSpec.AdamW opt,
                              long optimizerStep) {
        device.beginStep(StepScalars.of(opt.lr(), opt.beta1(), opt.beta2(), optimizerStep), lossWeight);
        for (MicroBatchInputs in : inputs) {
            device.runMicroBatch(in);
        }
        device.runOptimizer();
        return device.finishStep().loss();
    }

    /** The step's micro-batches of seeded random tokens, every target counted. */
    static List<MicroBatchInputs> randomInputs(ModelSpec model, TrainingSpec spec) {
        SplittableRandom random = new SplittableRandom(spec.seed());
        int tokens = spec.microBatch() * spec.seqLen();
        List<MicroBatchInputs> out = new ArrayList<>();
        for (int m = 0; m < spec.accumulation(); m++) {
            int[] ids = random.ints(tokens, 0, model.config().vocab()).toArray();
            int[] targets = random.ints(tokens, 0, model.config().vocab()).toArray();
            float[] mask = new float[tokens];
            Arrays.fill(mask, 1f);
            out.add(MicroBatchInputs.of(new Batch(spec.microBatch(), spec.seqLen(), ids, targets, new int[tokens], mask)));
        }
        return out;
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a leftover scratch cache in the temporary folder is harmless
        }
    }
}
