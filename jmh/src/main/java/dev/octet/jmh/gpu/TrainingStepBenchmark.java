package dev.octet.jmh.gpu;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.data.Batch;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.exec.DeviceStep;
import dev.octet.gpu.exec.MicroBatchInputs;
import dev.octet.gpu.exec.StepScalars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One whole training step on the GPU, as {@code octet train --device cuda} runs it: the compiled plan of an
 * example model and recipe, replayed as CUDA graphs (forward+backward of the micro-batch, then the optimizer),
 * with the input copies and the one host wait that reads the loss. The tiny model runs at its training
 * block's shape (4 x 128 tokens); GPT-2 124M at 8 x 1024 tokens. Random token ids; the loss is returned so
 * the step cannot be optimized away. The teardown prints tokens/s and model TFLOP/s (6 per weight per token
 * plus attention, as ParameterTable counts them).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TrainingStepBenchmark {
    @Param({"tiny:infir2", "tiny:bf16", "gpt2-124m:infir2", "gpt2-124m:bf16"})
    public String config;

    private GpuBench bench;
    private DeviceStep step;
    private MicroBatchInputs inputs;
    private StepScalars scalars;
    private float lossWeight;
    private StepPlan plan;
    private int tokens;

    @Setup(Level.Trial)
    public void setup() {
        bench = GpuBench.get();
        String[] parts = config.split(":");
        Path examples = examples();
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(List.of(examples.resolve(parts[0] + ".octet"),
                examples.resolve("recipes").resolve(parts[1] + ".octet")), d);
        if (d.hasErrors()) {
            throw new IllegalStateException(DiagnosticPrinter.render(d));
        }
        ModelSpec model = p.models().values().iterator().next();
        RecipeSpec recipe = p.recipes().values().stream().filter(r -> r.name().equals(parts[1])).findFirst().orElseThrow();
        Optional<TrainingSpec> training = p.trainings().stream().findFirst();
        int batch = training.map(TrainingSpec::microBatch).orElse(8);
        int seq = training.map(TrainingSpec::seqLen).orElse(1024);
        plan = Lowering.compile(CompileTarget.of(model, recipe, training, batch, seq), Lowering.QUIET);
        step = DeviceStep.load(bench.context(), plan, bench.cache());
        step.upload(ParameterStore.initialize(model, 1));
        tokens = batch * seq;
        SplittableRandom random = new SplittableRandom(1);
        int[] ids = random.ints(tokens, 0, model.config().vocab()).toArray();
        int[] targets = random.ints(tokens, 0, model.config().vocab()).toArray();
        float[] mask = new float[tokens];
        Arrays.fill(mask, 1f);
        inputs = MicroBatchInputs.of(new Batch(batch, seq, ids, targets, new int[tokens], mask));
        lossWeight = MicroBatchInputs.lossWeight(List.of(inputs));
        scalars = StepScalars.of(1e-4, 0.9, 0.95, 1);
        step.captureGraphs();
        System.out.println("[step] " + config + ": " + step.summary());
    }

    @Benchmark
    public float trainingStep() {
        step.beginStep(scalars, lossWeight);
        step.runMicroBatch(inputs);
        step.runOptimizer();
        return step.finishStep().loss();
    }

    @TearDown(Level.Trial)
    public void report() {
        if (step == null) {
            return;
        }
        int steps = 20;
        long start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            trainingStep();
        }
        double seconds = (System.nanoTime() - start) / 1e9 / steps;
        System.out.printf(Locale.ROOT, "[step] %s: %.3f ms/step, %.0f tokens/s, %.1f model TFLOP/s, arena %.1f MiB%n",
                config, seconds * 1e3, tokens / seconds, plan.flopsPerStep() / seconds / 1e12,
                plan.memory().arenaBytes() / (1024.0 * 1024.0));
        step.close();
    }

    /** examples/ of the repository, found from the working directory upwards. */
    static Path examples() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("examples/recipes"))) {
                return dir.resolve("examples");
            }
        }
        throw new IllegalStateException("no examples/ above " + Path.of("").toAbsolutePath());
    }
}
