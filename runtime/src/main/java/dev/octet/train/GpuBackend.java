package dev.octet.train;

import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Scaling;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CudaContext;
import dev.octet.gpu.KernelCompiler;
import dev.octet.gpu.NvrtcCompilers;
import dev.octet.gpu.exec.DeviceStep;
import dev.octet.gpu.exec.Fp8HealthProbe;
import dev.octet.gpu.exec.MicroBatchInputs;
import dev.octet.gpu.exec.StepScalars;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * The CUDA backend: the step compiled for the training block's shape, run on device 0 by a
 * {@link DeviceStep} that replays two CUDA graphs per step. Weights start as the CPU backend's do (same
 * initialisation and seed, or the same file); a host copy of the parameter store is kept only for checkpoints.
 * A step with FP8 health armed runs its micro-batches launch by launch instead of from the graph and reads
 * every quantization back to the host ({@link Fp8HealthProbe}): slow, so only on the steps health is logged for.
 */
final class GpuBackend implements TrainingBackend {
    private final ModelSpec model;
    private final RecipeSpec recipe;
    private final TrainingSpec spec;
    private final CudaContext context;
    private final DeviceStep device;
    private final ParameterStore params;
    // What the checkpoint format reads delayed-scaling state from; the GPU keeps its own on the device.
    private final GraphInterpreter interpreter;
    private final Fp8HealthProbe health;
    private boolean healthArmed;

    private GpuBackend(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, CudaContext context, DeviceStep device,
                       ParameterStore params) {
        this.model = model;
        this.recipe = recipe;
        this.spec = spec;
        this.context = context;
        this.device = device;
        this.params = params;
        this.interpreter = new GraphInterpreter(model, params, new RecipeLinearPolicy(recipe, model.config().layers()),
                Rounding.GPU);
        this.health = Fp8HealthProbe.of(device.layout().plan());
    }

    /** Compiles the training block's step, opens device 0, loads the step and uploads the initial weights. */
    static GpuBackend open(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, boolean graphs) {
        StepPlan plan = Lowering.compile(CompileTarget.of(model, recipe, spec), Lowering.QUIET);
        CudaContext context = CudaContext.open(0);
        try {
            KernelCompiler compiler = NvrtcCompilers.open();
            DeviceStep device = DeviceStep.load(context, plan, new CompileCache(compiler, KernelCompiler.HOPPER, List.of()));
            ParameterStore params = ParameterStore.initialize(model, spec.seed());
            device.upload(params);
            if (graphs) {
                device.captureGraphs();
            }
            return new GpuBackend(model, recipe, spec, context, device, params);
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    DeviceStep device() {
        return device;
    }

    String describe() {
        return context.info() + "; " + device.summary();
    }

    @Override
    public String name() {
        return "gpu";
    }

    /**
     * A non-finite loss, read back before the optimizer runs, skips the step: its gradients are discarded. A
     * non-finite gradient norm is found on the device by the gradient-norm kernel, which sets the step's skip
     * flag so that no AdamW kernel writes anything; the host then names the first gradient holding inf or NaN
     * (reading gradients back only on such a step) and discards them. With health armed, the micro-batches run
     * eagerly and each quantization is measured as it is written.
     */
    @Override
    public StepOutcome step(List<Batch> microBatches, long optimizerStep, double learningRate) {
        List<MicroBatchInputs> inputs = microBatches.stream().map(MicroBatchInputs::of).toList();
        TrainingSpec.AdamW opt = spec.optimizer();
        device.beginStep(StepScalars.of(learningRate, opt.beta1(), opt.beta2(), optimizerStep),
                MicroBatchInputs.lossWeight(inputs));
        for (MicroBatchInputs in : inputs) {
            if (healthArmed) {
                device.runMicroBatchEagerly(in, launch -> health.measureAfter(launch, device));
            } else {
                device.runMicroBatch(in);
            }
        }
        float loss = device.lossSoFar();
        if (!Float.isFinite(loss)) {
            device.discardGradients();
            return StepOutcome.skipped(loss, Double.NaN, "loss");
        }
        device.runOptimizer();
        DeviceStep.StepResult result = device.finishStep();
        if (!Float.isFinite(result.gradNorm())) {
            String tensor = firstNonFiniteGradient();
            device.discardGradients();
            return StepOutcome.skipped(result.loss(), result.gradNorm(), tensor);
        }
        return StepOutcome.applied(result.loss(), result.gradNorm());
    }

    /** The first gradient holding inf or NaN, named as the CPU backend names it, read back from the device. */
    private String firstNonFiniteGradient() {
        for (Parameter p : device.parameters()) {
            for (float g : device.readF32(p.gradient())) {
                if (!Float.isFinite(g)) {
                    return "gradient of " + p.name();
                }
            }
        }
        // The norm overflowed although every element is finite: still no update that can be trusted.
        return "gradient norm";
    }

    @Override
    public void armHealth() {
        health.finish();
        healthArmed = true;
    }

    @Override
    public List<Fp8TensorHealth> finishHealth() {
        healthArmed = false;
        return health.finish();
    }

    /** What the CUDA driver reports in use on device 0: the arena, modules, graphs and the context itself. */
    @Override
    public OptionalLong deviceMemoryBytes() {
        return OptionalLong.of(context.memoryInUse());
    }

    @Override
    public double validationLoss(BatchSource sampler, int batches) {
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            sum += device.loss(MicroBatchInputs.of(sampler.next()));
        }
        return sum / batches;
    }

    @Override
    public void loadInitialWeights(Path file) throws IOException {
        MasterWeights.load(file, params);
        device.upload(params);
    }

    @Override
    public CheckpointMetadata restore(Path file) throws IOException {
        requireNoDelayedScaling(file);
        CheckpointMetadata metadata = TrainingCheckpoint.restore(file, model, recipe, params, interpreter);
        device.upload(params);
        return metadata;
    }

    @Override
    public void writeCheckpoint(FileChannel out, CheckpointMetadata state) throws IOException {
        device.download(params);
        TrainingCheckpoint.write(out, state, params, model, interpreter);
    }

    /**
     * The device keeps delayed scaling's amax histories in its arena, not where the checkpoint format reads
     * them; until they are carried, such runs are neither saved nor resumed on the GPU.
     */
    void requireNoDelayedScaling(Path file) throws CheckpointException {
        if (usesDelayedScaling()) {
            throw new CheckpointException(file, "recipe " + recipe.name()
                    + " keeps amax histories on the GPU, which checkpoints do not carry yet; train it on the CPU to resume");
        }
    }

    boolean usesDelayedScaling() {
        return !recipe.allBf16() && recipe.operands().values().stream().flatMap(byRole -> byRole.values().stream())
                .anyMatch(q -> q.scaling() instanceof Scaling.Delayed);
    }

    @Override
    public void close() {
        try {
            device.close();
        } finally {
            context.close();
        }
    }
}
