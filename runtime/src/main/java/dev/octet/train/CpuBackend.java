package dev.octet.train;

import dev.octet.dist.GradientExchange;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.checkpoint.TensorSource;
import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.Fp8LinearKernel;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.NonFiniteTensorException;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.GradientClipping;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.numerics.DelayedScaling;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;

/**
 * The CPU reference backend: the graph interpreter (FP8 simulated bit for bit, BF16 rounding as the GPU
 * stores values), global-norm clipping on FP64 gradients and AdamW on FP32 master weights. It measures FP8
 * health when armed, and skips the update of a step whose loss, gradients or FP8 operands are not finite.
 *
 * <p>As one rank of a data-parallel run ({@link GradientExchange}), it back-propagates its share of the step's
 * micro-batches, sums each gradient at the rank that owns its parameter ({@link ParameterShards}), and updates
 * the parameters it owns before every owner hands its updated weights to the others (ZeRO-2).
 */
final class CpuBackend implements TrainingBackend {
    private static final Rounding ROUNDING = Rounding.GPU;

    private final ModelSpec model;
    private final RecipeSpec recipe;
    private final TrainingSpec spec;
    private final ParameterStore params;
    private final GraphInterpreter interpreter;
    private final Fp8HealthCollector health;
    private final HeldOutEvaluation evaluation;
    private final double[][] grads;
    private final AdamWUpdate adamW = new AdamWUpdate();
    private final GradientExchange exchange;
    private final ParameterShards shards;

    CpuBackend(ModelSpec model, RecipeSpec recipe, TrainingSpec spec) {
        this(model, recipe, spec, GradientExchange.SINGLE);
    }

    /** One rank of a data-parallel run exchanging through {@code exchange}. */
    CpuBackend(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, GradientExchange exchange) {
        this(model, recipe, spec, new Fp8HealthCollector(), exchange);
    }

    private CpuBackend(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, Fp8HealthCollector health,
                       GradientExchange exchange) {
        this(model, recipe, spec, new RecipeLinearPolicy(recipe, model.config().layers(), health), health, exchange);
    }

    /** With the kernels chosen by {@code policy}, which reports FP8 health to {@code health}: how a test injects a fault. */
    CpuBackend(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, GraphInterpreter.LinearPolicy policy,
               Fp8HealthCollector health) {
        this(model, recipe, spec, policy, health, GradientExchange.SINGLE);
    }

    /** One rank of a data-parallel run with the kernels chosen by {@code policy}: how a test injects a fault on one rank. */
    CpuBackend(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, GraphInterpreter.LinearPolicy policy,
               Fp8HealthCollector health, GradientExchange exchange) {
        this.model = model;
        this.recipe = recipe;
        this.spec = spec;
        this.params = ParameterStore.initialize(model, spec.seed());
        this.interpreter = new GraphInterpreter(model, params, policy, ROUNDING);
        this.health = health;
        this.evaluation = new HeldOutEvaluation(model, interpreter, params, ROUNDING);
        this.grads = params.entries().stream().map(ParameterStore.Entry::grad).toArray(double[][]::new);
        this.exchange = exchange;
        this.shards = ParameterShards.of(params.entries().stream().map(e -> e.master().length).toList(), exchange.worldSize());
    }

    @Override
    public String name() {
        return "cpu";
    }

    /** The parameters this backend trains (its master weights and moments). */
    ParameterStore parameters() {
        return params;
    }

    @Override
    public StepOutcome step(List<Batch> microBatches, long optimizerStep, double learningRate) {
        params.refreshWorking(ROUNDING);
        params.zeroGrads();
        // Every rank weighs its micro-batches by the whole step's count, so the ranks' sums are the step's mean.
        int accumulation = microBatches.size() * exchange.worldSize();
        double loss = 0;
        Optional<String> fp8NonFinite = Optional.empty();
        try {
            for (Batch b : microBatches) {
                loss += interpreter.forwardBackward(TokenBatch.of(b), 1.0 / accumulation) / accumulation;
            }
        } catch (NonFiniteTensorException e) {
            // Quantizing an FP8 operand found it; the step's remaining micro-batches would not make it finite. The
            // other ranks still take part in the sums, and the NaN loss makes every rank skip the step.
            fp8NonFinite = Optional.of(e.tensor());
            loss = Double.NaN;
        }
        if (exchange.worldSize() > 1) {
            return dataParallelUpdate(loss, fp8NonFinite, optimizerStep, learningRate);
        }
        if (fp8NonFinite.isPresent()) {
            return StepOutcome.skipped(Double.NaN, Double.NaN, fp8NonFinite.get());
        }
        Optional<String> nonFinite = NonFiniteCheck.firstNonFinite(loss, GradientClipping.globalNorm(grads), params.entries());
        if (nonFinite.isPresent()) {
            return StepOutcome.skipped(loss, Double.NaN, nonFinite.get());
        }
        double norm = spec.clipGradNorm() > 0 ? GradientClipping.clip(spec.clipGradNorm(), grads)
                : GradientClipping.globalNorm(grads);
        adamW.apply(params, spec.optimizer(), learningRate, optimizerStep);
        return StepOutcome.applied(loss, norm);
    }

    /**
     * The rest of a data-parallel step (ZeRO-2): each gradient summed at its owner only (a reduce-scatter,
     * parameter by parameter), the global norm from the owners' sums of squares, clipping and AdamW by the
     * owners, then the updated weights from each owner to every rank. A non-finite loss, FP8 operand or gradient
     * on any rank makes the summed loss or norm non-finite, so every rank skips the step.
     */
    private StepOutcome dataParallelUpdate(double localLoss, Optional<String> fp8NonFinite, long optimizerStep,
                                           double learningRate) {
        List<ParameterStore.Entry> entries = params.entries();
        int rank = exchange.rank();
        shareAmaxHistories();
        for (int index = 0; index < entries.size(); index++) {
            exchange.reduce(grads[index], shards.owner(index));
        }
        double ownedSquares = 0;
        for (int index = 0; index < entries.size(); index++) {
            if (shards.owns(rank, index)) {
                for (double g : grads[index]) {
                    ownedSquares += g * g;
                }
            }
        }
        double[] sums = {localLoss, ownedSquares};
        exchange.allReduceSum(sums);
        double loss = sums[0], norm = Math.sqrt(sums[1]);
        if (fp8NonFinite.isPresent()) {
            return StepOutcome.skipped(Double.NaN, Double.NaN, fp8NonFinite.get());
        }
        if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
            List<ParameterStore.Entry> owned = new ArrayList<>();
            for (int index = 0; index < entries.size(); index++) {
                if (shards.owns(rank, index)) {
                    owned.add(entries.get(index));
                }
            }
            // The owner of a non-finite gradient names it; the other ranks see the norm.
            return StepOutcome.skipped(loss, Double.NaN, NonFiniteCheck.firstNonFinite(loss, norm, owned).orElse("gradient norm"));
        }
        double scale = spec.clipGradNorm() > 0 ? GradientClipping.scale(spec.clipGradNorm(), norm) : 1;
        for (int index = 0; index < entries.size(); index++) {
            if (scale < 1 && shards.owns(rank, index)) {
                double[] g = grads[index];
                for (int i = 0; i < g.length; i++) {
                    g[i] *= scale;
                }
            }
        }
        adamW.apply(params, spec.optimizer(), learningRate, optimizerStep, index -> shards.owns(rank, index));
        for (int index = 0; index < entries.size(); index++) {
            exchange.broadcast(entries.get(index).master(), shards.owner(index));
        }
        return StepOutcome.applied(loss, norm);
    }

    /**
     * Delayed scaling's amax histories made the same on every rank: each entry the largest over the ranks (each
     * rank recorded its own micro-batches' amaxes), as Transformer Engine reduces amaxes over its data-parallel
     * group. So every rank scales the next step alike, and rank 0's histories in a checkpoint are every rank's.
     */
    private void shareAmaxHistories() {
        List<Runnable> restores = new ArrayList<>();
        List<float[]> histories = new ArrayList<>();
        for (ParameterTable.Linear linear : ParameterTable.of(model).linears()) {
            if (!(interpreter.kernel(linear.name()) instanceof Fp8LinearKernel fp8)) {
                continue;
            }
            Map<Gemm, Map<Role, DelayedScaling>> states = fp8.delayedScaling();
            for (Gemm gemm : Gemm.values()) {
                for (Role role : Role.values()) {
                    DelayedScaling state = states.getOrDefault(gemm, Map.of()).get(role);
                    if (state != null) {
                        float[] history = state.history();
                        histories.add(history);
                        restores.add(() -> fp8.restoreDelayedScaling(gemm, role, new DelayedScaling(state.format(),
                                state.historyLength(), state.margin(), history, state.recorded())));
                    }
                }
            }
        }
        int total = histories.stream().mapToInt(h -> h.length).sum();
        if (total == 0) {
            return;
        }
        double[] all = new double[total];
        int at = 0;
        for (float[] h : histories) {
            for (float amax : h) {
                all[at++] = amax;
            }
        }
        exchange.allReduceMax(all);
        at = 0;
        for (float[] h : histories) {
            for (int i = 0; i < h.length; i++) {
                h[i] = (float) all[at++];
            }
        }
        restores.forEach(Runnable::run);
    }

    @Override
    public double validationLoss(BatchSource sampler, int batches) {
        return evaluation.loss(sampler, batches);
    }

    @Override
    public void armHealth() {
        health.arm();
    }

    @Override
    public List<Fp8TensorHealth> finishHealth() {
        return health.finish();
    }

    @Override
    public void loadInitialWeights(Path file) throws IOException {
        MasterWeights.load(file, params);
    }

    @Override
    public CheckpointMetadata restore(Path file) throws IOException {
        return TrainingCheckpoint.restore(file, model, recipe, new HostTrainingState(model, params, interpreter));
    }

    @Override
    public void writeCheckpoint(FileChannel out, CheckpointMetadata state) throws IOException {
        SequencedMap<String, TensorSource> whole = new HostTrainingState(model, params, interpreter).tensors();
        TrainingCheckpoint.write(out, state, exchange.worldSize() == 1 ? whole : TrainingCheckpoint.shardOf(whole,
                params.entries().stream().map(e -> e.param().name()).toList(), shards, exchange.rank()));
    }

    @Override
    public GradientExchange exchange() {
        return exchange;
    }
}
