package dev.octet.train;

import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.checkpoint.TensorReader;
import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.passes.LmHeadLossChunking;
import dev.octet.compiler.plan.DeviceMemoryPlan;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CudaContext;
import dev.octet.gpu.KernelCompiler;
import dev.octet.gpu.Nccl;
import dev.octet.dist.GradientExchange;
import dev.octet.dist.RankFailureException;
import dev.octet.gpu.NvrtcCompilers;
import dev.octet.gpu.exec.DeviceStep;
import dev.octet.gpu.exec.Fp8HealthProbe;
import dev.octet.gpu.exec.MicroBatchInputs;
import dev.octet.gpu.exec.StepScalars;
import dev.octet.numerics.InitialWeights;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;

/**
 * The CUDA backend: the step compiled for the training block's shape, run on device 0 by a
 * {@link DeviceStep} that replays two CUDA graphs per step. The training state lives on the device only: weights
 * start as the CPU backend's do (same {@link InitialWeights} and seed, computed on the device, or the same file,
 * copied tensor by tensor), and checkpoints stream from the device ({@link DeviceTrainingState}).
 * A step with FP8 health armed runs its micro-batches launch by launch instead of from the graph and reads a
 * sample of every quantization back to the host ({@link Fp8HealthProbe}): slower, so only on the steps health is
 * logged for.
 *
 * <p>As one rank of a data-parallel run, each on its own device: every rank weights its tokens by the count over
 * the whole global batch, and after its micro-batches NCCL sums every gradient and the loss over the ranks in place
 * ({@link DeviceStep#sumGradientsOver}); the optimizer then runs unchanged on every rank, which all hold the same
 * gradients (NCCL's all-reduce gives every rank the same bits), so the weights stay the same everywhere (plain data
 * parallel: the optimizer state is not sharded yet). Each rank writes the checkpoint shard of the parameters
 * {@link ParameterShards} gives it.
 */
final class GpuBackend implements TrainingBackend {
    private final ModelSpec model;
    private final RecipeSpec recipe;
    private final TrainingSpec spec;
    private final CudaContext context;
    private final DeviceStep device;
    private final DeviceTrainingState state;
    private final Fp8HealthProbe health;
    private final GradientExchange ranks;
    private final Optional<Nccl.Communicator> gradients;
    private final ParameterShards shards;
    private boolean healthArmed;

    private GpuBackend(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, CudaContext context, DeviceStep device,
                       GradientExchange ranks, Optional<Nccl.Communicator> gradients) {
        this.model = model;
        this.recipe = recipe;
        this.spec = spec;
        this.context = context;
        this.device = device;
        this.state = new DeviceTrainingState(device, model);
        this.health = Fp8HealthProbe.of(device.layout().plan());
        this.ranks = ranks;
        this.gradients = gradients;
        this.shards = ParameterShards.of(ParameterTable.of(model).params().stream().map(p -> Math.toIntExact(p.size())).toList(),
                ranks.worldSize());
    }

    /**
     * Compiles the training block's step, opens device 0, checks that the plan fits its free memory, loads the
     * step and uploads the initial weights. {@code report} gets the planned and free device memory.
     *
     * @throws DeviceMemoryShortfallException before anything of the step is allocated, when it does not fit
     */
    static GpuBackend open(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, OptionalLong lossWorkspaceBytes,
                           boolean graphs, Consumer<String> report) {
        return open(model, recipe, spec, lossWorkspaceBytes, graphs, report, GradientExchange.SINGLE, 0, false);
    }

    /**
     * As above as one rank of {@code ranks} on device {@code ordinal}: the ranks join an NCCL communicator (its id
     * created by rank 0 and handed on through {@code ranks}) when there are several, or when {@code ncclAlone} asks
     * for one of a single rank (how a one-GPU test runs the data-parallel path).
     */
    static GpuBackend open(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, OptionalLong lossWorkspaceBytes,
                           boolean graphs, Consumer<String> report, GradientExchange ranks, int ordinal, boolean ncclAlone) {
        StepPlan plan = Lowering.compile(target(model, recipe, spec, lossWorkspaceBytes), Lowering.QUIET);
        CudaContext context = CudaContext.open(ordinal);
        try {
            requireFit(new DeviceMemoryBudget(DeviceMemoryPlan.of(plan), context.memoryInfo()), model, recipe, spec,
                    lossWorkspaceBytes, report);
            KernelCompiler compiler = NvrtcCompilers.open();
            DeviceStep device = DeviceStep.load(context, plan, new CompileCache(compiler, KernelCompiler.HOPPER, List.of()));
            device.initialize(spec.seed(), InitialWeights.of(model));
            if (graphs) {
                device.captureGraphs();
            }
            Optional<Nccl.Communicator> gradients = ranks.worldSize() > 1 || ncclAlone
                    ? Optional.of(joinNccl(ranks)) : Optional.empty();
            // NCCL would wait for a dead rank forever: the rank link's line aborts its collectives instead.
            gradients.ifPresent(comm -> ranks.onRankFailure(comm::abort));
            return new GpuBackend(model, recipe, spec, context, device, ranks, gradients);
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    /** This rank's membership of an NCCL communicator of every rank, on the context current on this thread. */
    private static Nccl.Communicator joinNccl(GradientExchange ranks) {
        Nccl nccl = switch (Nccl.probe()) {
            case Nccl.Availability.Available available -> available.nccl();
            case Nccl.Availability.Unavailable why -> throw new IllegalStateException(
                    "data-parallel training on GPUs needs NCCL: " + why.reason());
        };
        // Rank 0's id reaches every rank as a sum in which the others add zeros: exact for bytes.
        byte[] id = ranks.rank() == 0 ? nccl.uniqueId() : new byte[Nccl.UNIQUE_ID_BYTES];
        double[] sum = new double[Nccl.UNIQUE_ID_BYTES];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = ranks.rank() == 0 ? id[i] & 0xFF : 0;
        }
        ranks.allReduceSum(sum);
        for (int i = 0; i < sum.length; i++) {
            id[i] = (byte) (int) sum[i];
        }
        return nccl.initRank(id, ranks.worldSize(), ranks.rank());
    }

    /** The training block's step, with the run's loss workspace where it sets one. */
    static CompileTarget target(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, OptionalLong lossWorkspaceBytes) {
        CompileTarget target = CompileTarget.of(model, recipe, spec);
        return lossWorkspaceBytes.isPresent() ? target.withLossWorkspace(lossWorkspaceBytes.getAsLong()) : target;
    }

    /**
     * Reports the budget and refuses a step that does not fit, saying what would (re-planned by the compiler): a
     * smaller micro-batch, recomputation, or a smaller loss workspace.
     */
    static void requireFit(DeviceMemoryBudget budget, ModelSpec model, RecipeSpec recipe, TrainingSpec spec,
                           OptionalLong lossWorkspaceBytes, Consumer<String> report) {
        report.accept(budget.describe());
        if (!budget.fits()) {
            SmallerSteps smaller = SmallerSteps.search(spec.microBatch(), spec.globalBatch(),
                    recipe.recompute().containsAll(EnumSet.allOf(Recompute.class)), budget.device().freeBytes(),
                    StepReplanner.compiler(model, recipe, spec, lossWorkspaceBytes));
            Optional<SmallerLossWorkspace> workspace = Optional.empty();
            long current = lossWorkspaceBytes.orElse(LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES);
            if (current == 0 || current > SmallerLossWorkspace.PROPOSED_BYTES) {
                long bytes = DeviceMemoryPlan.of(Lowering.compile(target(model, recipe, spec,
                        OptionalLong.of(SmallerLossWorkspace.PROPOSED_BYTES)), Lowering.QUIET)).bytesAfterContext();
                if (bytes <= budget.device().freeBytes()) {
                    workspace = Optional.of(new SmallerLossWorkspace(SmallerLossWorkspace.PROPOSED_BYTES, bytes));
                }
            }
            throw new DeviceMemoryShortfallException(budget.refusal(spec.microBatch(), smaller, workspace));
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
     * The host waits once, at the end of the step. A non-finite loss or gradient norm is found on the device by
     * the gradient-norm kernel, which sets the step's skip flag so that no AdamW kernel writes anything; the host
     * then reports the loss, or names the first gradient holding inf or NaN (reading gradients back only on such
     * a step), and discards the gradients. With health armed, the micro-batches and the optimizer run eagerly and
     * each quantization is measured as it is written.
     */
    @Override
    public StepOutcome step(List<Batch> microBatches, long optimizerStep, double learningRate) {
        List<MicroBatchInputs> inputs = microBatches.stream().map(MicroBatchInputs::of).toList();
        TrainingSpec.AdamW opt = spec.optimizer();
        // Every rank weights its tokens by the count over the whole global batch, so the summed losses are its mean.
        double[] counted = {MicroBatchInputs.countedTokens(inputs)};
        ranks.allReduceSum(counted);
        device.beginStep(StepScalars.of(learningRate, opt.beta1(), opt.beta2(), optimizerStep),
                MicroBatchInputs.lossWeight((long) counted[0]));
        for (MicroBatchInputs in : inputs) {
            if (healthArmed) {
                device.runMicroBatchEagerly(in, launch -> health.measureAfter(launch, device));
            } else {
                device.runMicroBatch(in);
            }
        }
        DeviceStep.StepResult result;
        try {
            gradients.ifPresent(device::sumGradientsOver);
            if (healthArmed) {
                device.runOptimizerEagerly(launch -> health.measureAfter(launch, device));
            } else {
                device.runOptimizer();
            }
            result = device.finishStep();
        } catch (RuntimeException e) {
            // An aborted NCCL collective fails the stream: what stopped it is the rank that stopped.
            throw ranks.rankFailure().<RuntimeException>map(RankFailureException::new).orElse(e);
        }
        if (!Float.isFinite(result.loss())) {
            device.discardGradients();
            return StepOutcome.skipped(result.loss(), Double.NaN, "loss");
        }
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
        try (TensorReader f = TensorReader.open(file)) {
            MasterWeights.load(f, ParameterTable.of(model).params(),
                    (param, values) -> state.load(param, TrainingState.Part.MASTER, values));
        }
        state.loaded();
    }

    @Override
    public CheckpointMetadata restore(Path file) throws IOException {
        return TrainingCheckpoint.restore(file, model, recipe, state);
    }

    @Override
    public void writeCheckpoint(FileChannel out, CheckpointMetadata metadata) throws IOException {
        TrainingCheckpoint.write(out, metadata, ranks.worldSize() == 1 ? state.tensors() : TrainingCheckpoint.shardOf(
                state.tensors(), ParameterTable.of(model).params().stream().map(ParameterTable.Param::name).toList(),
                shards, ranks.rank()));
    }

    @Override
    public GradientExchange exchange() {
        return ranks;
    }

    @Override
    public void close() {
        try {
            gradients.ifPresent(Nccl.Communicator::close);
            device.close();
        } finally {
            context.close();
        }
    }
}
