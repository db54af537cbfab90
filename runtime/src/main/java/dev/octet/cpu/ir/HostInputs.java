package dev.octet.cpu.ir;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.OptimizerStep;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.AdamW;
import dev.octet.cpu.ops.PositionEmbedding;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the host writes into a step program's buffers, as the CPU trainer drives the oracle: the parameters
 * and zeroed training state once, each micro-batch's tokens before its forward pass, and the step's
 * learning rate and bias corrections before the optimizer.
 */
final class HostInputs {
    private final Graph graph;
    private final Map<String, Value> byName = new HashMap<>();

    HostInputs(Graph graph) {
        this.graph = graph;
        for (Value v : graph.values()) {
            byName.put(v.name(), v);
        }
    }

    /**
     * Masters from {@code initial}, their BF16 working copies, and zeroed gradients, moments and amax
     * histories: the state before the first step.
     */
    void load(Buffers buffers, ParameterStore initial) {
        Set<Value> written = new LinkedHashSet<>();
        for (Parameter p : graph.parameters()) {
            float[] master = initial.get(p.name()).master();
            double[] m = new double[master.length];
            for (int i = 0; i < m.length; i++) {
                m[i] = master[i];
            }
            buffers.put(p.master(), m);
            buffers.put(p.shadow(), m);
            buffers.put(p.gradient(), new double[m.length]);
            buffers.put(p.m(), new double[m.length]);
            buffers.put(p.v(), new double[m.length]);
            written.addAll(java.util.List.of(p.master(), p.shadow(), p.gradient(), p.m(), p.v()));
        }
        for (Value v : graph.values()) {
            if (v.storage() == Storage.OPTIMIZER_STATE && !written.contains(v)) {
                buffers.put(v, new double[(int) v.type().elements()]);
            }
        }
    }

    /** Zeroes the step's accumulated loss (micro-batches add into it). */
    void startStep(Buffers buffers) {
        buffers.put(value("loss"), new double[1]);
    }

    /**
     * One micro-batch: tokens, targets, document ids, loss mask, positions restarting at each document (as
     * the oracle numbers them), and the loss weight 1 / (counted tokens · micro-batches), which makes the
     * summed token losses the mean the oracle reports and scales gradients as its lossScale does.
     */
    void microBatch(Buffers buffers, TokenBatch batch, int accumulation) {
        put(buffers, "tokens", batch.inputs());
        put(buffers, "targets", batch.targets());
        put(buffers, "document_ids", batch.documentIds());
        put(buffers, "positions", PositionEmbedding.documentPositions(batch.documentIds(), batch.batch(), batch.seqLen()));
        put(buffers, "loss_mask", batch.lossMask());
        double counted = 0;
        for (double m : batch.lossMask()) {
            counted += m;
        }
        put(buffers, "loss_weight", new double[] {counted == 0 ? 0 : 1.0 / (counted * accumulation)});
    }

    /** The learning rate of {@code step} (0-based) of {@code steps} by the schedule, and AdamW's bias corrections. */
    void stepScalars(Buffers buffers, TrainingSpec training, int step, int steps) {
        TrainingSpec.AdamW opt = training.optimizer();
        double[] s = new double[OptimizerStep.STEP_SCALARS];
        s[OptimizerStep.LEARNING_RATE] = (float) training.schedule().learningRate(opt.lr(), step, steps);
        s[OptimizerStep.BIAS_CORRECTION1] = AdamW.biasCorrection(opt.beta1(), step + 1);
        s[OptimizerStep.BIAS_CORRECTION2] = AdamW.biasCorrection(opt.beta2(), step + 1);
        put(buffers, "step_scalars", s);
    }

    Value value(String name) {
        Value v = byName.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no value %" + name + " in the step program");
        }
        return v;
    }

    private void put(Buffers buffers, String name, int[] ints) {
        put(buffers, name, Arrays.stream(ints).asDoubleStream().toArray());
    }

    /** Inputs no node reads (positions of a model without RoPE or learned positions) are not written. */
    private void put(Buffers buffers, String name, double[] values) {
        Value v = byName.get(name);
        if (v != null) {
            buffers.put(v, values);
        }
    }
}
