package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.AdamW;
import dev.octet.cpu.ops.GradientClipping;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.Batch;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.gpu.kernels.GpuSession;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One whole training step on the device against the CPU oracle (the graph interpreter with GPU rounding,
 * global-norm clipping and AdamW) from the same initial weights and batch.
 */
@GpuKernelTest
class TrainingStepGpuTest {
    /** Loss: both reduce the same rounded per-token terms; only FP32 vs FP64 summation differs. */
    private static final double LOSS_BOUND = 1e-3;
    private static final double NORM_BOUND = 1e-2;

    @ParameterizedTest(name = "tiny, {0}, loss chunks of {3} tokens (0: one chunk)")
    // FP8 gradients differ more than BF16 ones: the GPU rounds what it stores (residual-gradient sums to BF16,
    // as the compiled plan says) where the oracle keeps them exact, and a small difference that crosses an E4M3
    // rounding boundary (3 mantissa bits) moves that element by up to 1/16 — the CPU's own IR executor shows
    // the same 5e-2 against the oracle (GraphExecutorOracleTest). The global norm and the loss stay close.
    // 120: the 512 tokens' LM head and loss in chunks of 120, 120, 120, 120 and 32 (the oracle never chunks).
    @CsvSource({"infir2, 1e-1, 0.3, 0", "bf16, 1e-2, 0.2, 0", "infir2, 1e-1, 0.3, 120", "bf16, 1e-2, 0.2, 120"})
    void oneTinyStepMatchesTheCpuOracle(String recipe, double gradientBound, double updateBound, int lossChunkRows) {
        TinyRun run = TinyRun.of(recipe, lossChunkRows);
        ModelSpec model = run.model();
        TrainingSpec spec = run.spec();
        Batch batch = run.batches(1).getFirst();
        TrainingSpec.AdamW opt = spec.optimizer();
        double lr = opt.lr();

        ParameterStore cpu = ParameterStore.initialize(model, spec.seed());
        GraphInterpreter interpreter = new GraphInterpreter(model, cpu,
                new RecipeLinearPolicy(run.recipe(), model.config().layers()), Rounding.GPU);
        cpu.refreshWorking(Rounding.GPU);
        cpu.zeroGrads();
        double cpuLoss = interpreter.forwardBackward(TokenBatch.of(batch), 1.0);
        List<double[]> cpuGrads = cpu.entries().stream().map(e -> e.grad().clone()).toList();

        GpuSession session = GpuSession.get();
        try (DeviceStep step = DeviceStep.load(session.context(), run.plan(), session.cache())) {
            System.out.println("tiny/" + recipe + ": " + step.summary());
            step.upload(ParameterStore.initialize(model, spec.seed()));
            MicroBatchInputs in = MicroBatchInputs.of(batch);
            step.beginStep(StepScalars.of(lr, opt.beta1(), opt.beta2(), 1), MicroBatchInputs.lossWeight(List.of(in)));
            step.runMicroBatch(in);
            double worstGradient = 0;
            String worstName = "";
            for (Parameter p : step.parameters()) {
                int index = indexOf(cpu, p.name());
                double err = GpuComparisons.relativeL2(step.readF32(p.gradient()), cpuGrads.get(index));
                System.out.printf(Locale.ROOT, "  grad %-32s rel L2 %.3e%n", p.name(), err);
                if (err > worstGradient) {
                    worstGradient = err;
                    worstName = p.name();
                }
            }
            step.runOptimizer();
            DeviceStep.StepResult result = step.finishStep();

            double[][] grads = cpu.entries().stream().map(ParameterStore.Entry::grad).toArray(double[][]::new);
            double cpuNorm = spec.clipGradNorm() > 0 ? GradientClipping.clip(spec.clipGradNorm(), grads)
                    : GradientClipping.globalNorm(grads);
            ParameterStore initial = ParameterStore.initialize(model, spec.seed());
            for (ParameterStore.Entry e : cpu.entries()) {
                float[] g = new float[e.grad().length];
                for (int i = 0; i < g.length; i++) {
                    g[i] = (float) e.grad()[i];
                }
                AdamW.step(e.master(), g, e.m(), e.v(), 1, lr, opt.beta1(), opt.beta2(), opt.eps(),
                        e.param().decays() ? opt.weightDecay() : 0);
            }
            ParameterStore gpu = ParameterStore.initialize(model, spec.seed());
            step.download(gpu);
            double worstUpdate = 0;
            String worstUpdateName = "";
            for (ParameterStore.Entry e : cpu.entries()) {
                String name = e.param().name();
                double err = GpuComparisons.updateError(gpu.get(name).master(), e.master(), initial.get(name).master());
                System.out.printf(Locale.ROOT, "  update %-30s rel L2 %.3e%n", name, err);
                if (err > worstUpdate) {
                    worstUpdate = err;
                    worstUpdateName = name;
                }
            }
            double lossError = GpuComparisons.relative(result.loss(), cpuLoss);
            double normError = GpuComparisons.relative(result.gradNorm(), cpuNorm);
            System.out.printf(Locale.ROOT, "tiny/%s: loss GPU %.6f CPU %.6f (rel %.2e, bound %.0e); grad norm GPU %.5f "
                            + "CPU %.5f (rel %.2e); worst gradient %s %.3e (bound %.0e); worst AdamW update %s %.3e (bound %.2f)%n",
                    recipe, result.loss(), cpuLoss, lossError, LOSS_BOUND, result.gradNorm(), cpuNorm, normError,
                    worstName, worstGradient, gradientBound, worstUpdateName, worstUpdate, updateBound);
            assertTrue(lossError <= LOSS_BOUND, "loss " + lossError);
            assertTrue(normError <= NORM_BOUND, "gradient norm " + normError);
            assertTrue(worstGradient <= gradientBound, "gradient of " + worstName + ": " + worstGradient);
            // At t = 1 AdamW moves each weight by about lr·sign(g): tiny gradients whose sign differs move it the
            // other way, so the update's error is larger than the gradient's.
            assertTrue(worstUpdate <= updateBound, "update of " + worstUpdateName + ": " + worstUpdate);
        }
    }

    /**
     * GPT-2 small (124M) at one sequence of 256 tokens: the loss and gradients of one micro-batch; with
     * {@code lossChunkRows} 104, the LM head (vocabulary 50,257, an odd row length) and loss run in chunks of 104,
     * 104 and 48 tokens.
     */
    @ParameterizedTest(name = "gpt2, loss chunks of {0} tokens (0: one chunk)")
    @ValueSource(ints = {0, 104})
    void aGpt2ShapedStepMatchesTheCpuOracle(int lossChunkRows) {
        final double lossBound = 2e-3;
        // Twelve layers of FP8 backward let E4M3 rounding-boundary crossings (see the tiny test) compound:
        // measured 0.17 at layer 9 on the H200 (docs/gpu-test-log.md).
        final double gradientBound = 2.5e-1;
        Program p = ExampleModels.load("gpt2-124m.octet", "infir2");
        ModelSpec model = p.model("gpt2_124m").orElseThrow();
        RecipeSpec recipe = p.recipe("infir2").orElseThrow();
        int seq = 256;
        CompileTarget target = CompileTarget.of(model, recipe, Optional.empty(), 1, seq);
        StepPlan plan = Lowering.compile(lossChunkRows == 0 ? target
                : target.withLossWorkspace(2L * lossChunkRows * model.config().vocab()), Lowering.QUIET);
        SplittableRandom random = new SplittableRandom(124);
        int[] tokens = new int[seq + 1];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextInt(model.config().vocab());
        }
        float[] mask = new float[seq];
        java.util.Arrays.fill(mask, 1f);
        Batch batch = new Batch(1, seq, java.util.Arrays.copyOf(tokens, seq), java.util.Arrays.copyOfRange(tokens, 1, seq + 1),
                new int[seq], mask);

        long start = System.nanoTime();
        ParameterStore cpu = ParameterStore.initialize(model, 1);
        GraphInterpreter interpreter = new GraphInterpreter(model, cpu,
                new RecipeLinearPolicy(recipe, model.config().layers()), Rounding.GPU);
        cpu.refreshWorking(Rounding.GPU);
        cpu.zeroGrads();
        double cpuLoss = interpreter.forwardBackward(TokenBatch.of(batch), 1.0);
        System.out.printf(Locale.ROOT, "gpt2: CPU oracle step in %.1f s%n", (System.nanoTime() - start) / 1e9);

        GpuSession session = GpuSession.get();
        try (DeviceStep step = DeviceStep.load(session.context(), plan, session.cache())) {
            System.out.println("gpt2/infir2: " + step.summary());
            step.upload(ParameterStore.initialize(model, 1));
            MicroBatchInputs in = MicroBatchInputs.of(batch);
            step.beginStep(StepScalars.of(1e-4, 0.9, 0.95, 1), MicroBatchInputs.lossWeight(List.of(in)));
            step.runMicroBatch(in);
            DeviceStep.StepResult result = step.finishStep();
            double worst = 0;
            String worstName = "";
            double globalNorm = 0;
            for (Parameter param : step.parameters()) {
                for (double g : cpu.get(param.name()).grad()) {
                    globalNorm += g * g;
                }
            }
            // Gradients smaller than 1e-4 of the global norm are compared against that floor.
            double floor = 1e-4 * Math.sqrt(globalNorm);
            for (Parameter param : step.parameters()) {
                double err = GpuComparisons.relativeL2WithFloor(step.readF32(param.gradient()), cpu.get(param.name()).grad(),
                        floor);
                if (err > worst) {
                    worst = err;
                    worstName = param.name();
                }
            }
            double lossError = GpuComparisons.relative(result.loss(), cpuLoss);
            System.out.printf(Locale.ROOT, "gpt2/infir2 seq %d, loss chunks of %d: loss GPU %.6f CPU %.6f (rel %.2e, bound %.0e); worst "
                    + "gradient %s rel L2 %.3e (bound %.0e)%n", seq, lossChunkRows, result.loss(), cpuLoss, lossError, lossBound,
                    worstName, worst, gradientBound);
            assertTrue(lossError <= lossBound, "loss " + lossError);
            assertTrue(worst <= gradientBound, "gradient of " + worstName + ": " + worst);
        }
    }

    private static int indexOf(ParameterStore store, String name) {
        List<ParameterStore.Entry> entries = store.entries();
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).param().name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no parameter " + name);
    }
}
