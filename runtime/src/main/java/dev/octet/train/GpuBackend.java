package dev.octet.train;

import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.QuantizeInsertion;
import dev.octet.compiler.plan.DeviceMemoryPlan;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.Fp8LinearKernel;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.Role;
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
import dev.octet.numerics.DelayedScaling;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;

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
    // What the checkpoint format reads delayed-scaling state from; the device's histories are copied in and out.
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

    /**
     * Compiles the training block's step, opens device 0, checks that the plan fits its free memory, loads the
     * step and uploads the initial weights. {@code report} gets the planned and free device memory.
     *
     * @throws DeviceMemoryShortfallException before anything of the step is allocated, when it does not fit
     */
    static GpuBackend open(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, boolean graphs, Consumer<String> report) {
        StepPlan plan = Lowering.compile(CompileTarget.of(model, recipe, spec), Lowering.QUIET);
        CudaContext context = CudaContext.open(0);
        try {
            requireFit(new DeviceMemoryBudget(DeviceMemoryPlan.of(plan), context.memoryInfo()), model, recipe, spec, report);
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

    /** Reports the budget and refuses a step that does not fit, saying what would (re-planned by the compiler). */
    static void requireFit(DeviceMemoryBudget budget, ModelSpec model, RecipeSpec recipe, TrainingSpec spec,
                           Consumer<String> report) {
        report.accept(budget.describe());
        if (!budget.fits()) {
            SmallerSteps smaller = SmallerSteps.search(spec.microBatch(), spec.globalBatch(),
                    recipe.recompute().containsAll(EnumSet.allOf(Recompute.class)), budget.device().freeBytes(),
                    StepReplanner.compiler(model, recipe, spec));
            throw new DeviceMemoryShortfallException(budget.refusal(spec.microBatch(), smaller));
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
        CheckpointMetadata metadata = TrainingCheckpoint.restore(file, model, recipe, params, interpreter);
        device.upload(params);
        delayedScalingToDevice();
        return metadata;
    }

    @Override
    public void writeCheckpoint(FileChannel out, CheckpointMetadata state) throws IOException {
        device.download(params);
        delayedScalingFromDevice();
        TrainingCheckpoint.write(out, state, params, model, interpreter);
    }

    /** Each delayed-scaling operand of the FP8 layers with its history and count in the arena. */
    private record DelayedOperand(Fp8LinearKernel kernel, Gemm gemm, Role role, OperandQuant quant, Value history,
                                  Value recorded) {}

    /**
     * The amax histories the device keeps for delayed scaling, matched to the layers, GEMMs and operands whose
     * state the checkpoint format reads from the interpreter's FP8 kernels.
     */
    private List<DelayedOperand> delayedOperands() {
        List<DelayedOperand> out = new ArrayList<>();
        for (ParameterTable.Linear linear : ParameterTable.of(model).linears()) {
            if (!(interpreter.kernel(linear.name()) instanceof Fp8LinearKernel fp8)) {
                continue;
            }
            for (Gemm gemm : Gemm.values()) {
                for (Role role : gemm.operands()) {
                    OperandQuant q = recipe.operand(gemm, role);
                    String history = QuantizeInsertion.amaxHistoryName(linear.name(), gemm, role);
                    Optional<Value> h = device.layout().value(history);
                    Optional<Value> r = device.layout().value(QuantizeInsertion.recordedName(history));
                    if (q.scaling() instanceof Scaling.Delayed && h.isPresent() && r.isPresent()) {
                        out.add(new DelayedOperand(fp8, gemm, role, q, h.get(), r.get()));
                    }
                }
            }
        }
        return out;
    }

    private void delayedScalingFromDevice() {
        for (DelayedOperand d : delayedOperands()) {
            Scaling.Delayed scaling = (Scaling.Delayed) d.quant().scaling();
            int recorded = ByteBuffer.wrap(device.readBytes(d.recorded())).order(ByteOrder.LITTLE_ENDIAN).getInt();
            d.kernel().restoreDelayedScaling(d.gemm(), d.role(), new DelayedScaling(d.quant().format(), scaling.history(),
                    scaling.margin(), device.readF32(d.history()), recorded));
        }
    }

    private void delayedScalingToDevice() {
        for (DelayedOperand d : delayedOperands()) {
            DelayedScaling state = d.kernel().delayedScaling().getOrDefault(d.gemm(), Map.of()).get(d.role());
            if (state == null) {
                continue;  // the checkpoint has none for it: the device's zeroed history is the fresh start
            }
            device.writeF32(d.history(), state.history());
            device.writeBytes(d.recorded(), ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(Math.toIntExact(state.recorded())).array());
        }
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
