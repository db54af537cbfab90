package dev.octet.cpu.ir;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.cuda.optim.AdamWScalarSlot;
import dev.octet.compiler.plan.StepBuffer;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.AdamW;
import dev.octet.cpu.ops.PositionEmbedding;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
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
            p.shadow().ifPresent(s -> buffers.put(s, m));
            buffers.put(p.gradient(), new double[m.length]);
            buffers.put(p.m(), new double[m.length]);
            buffers.put(p.v(), new double[m.length]);
            written.addAll(p.values());
        }
        for (Value v : graph.values()) {
            if (v.storage() == Storage.OPTIMIZER_STATE && !written.contains(v)) {
                buffers.put(v, new double[(int) v.type().elements()]);
            }
        }
    }

    /** Zeroes the step's accumulated loss (micro-batches add into it). */
    void startStep(Buffers buffers) {
        buffers.put(value(StepBuffer.LOSS), new double[1]);
    }

    /**
     * 1 / (tokens counted over all micro-batches of the step): the loss weight every micro-batch reads, so
     * the summed token losses are the step's mean loss and gradients carry the matching scale.
     */
    static double lossWeight(List<TokenBatch> microBatches) {
        double counted = 0;
        for (TokenBatch b : microBatches) {
            for (double m : b.lossMask()) {
                if (m != 0 && m != 1) {
                    throw new IllegalArgumentException("the step program counts a token or not; loss mask holds " + m);
                }
                counted += m;
            }
        }
        return counted == 0 ? 0 : 1 / counted;
    }

    /**
     * One micro-batch: tokens, targets (−1 where the loss mask leaves a token out), document ids, positions
     * restarting at each document (as the oracle numbers them), and the step's loss weight.
     */
    void microBatch(Buffers buffers, TokenBatch batch, double lossWeight) {
        int[] targets = batch.targets().clone();
        for (int i = 0; i < targets.length; i++) {
            if (batch.lossMask()[i] == 0) {
                targets[i] = -1;
            }
        }
        put(buffers, StepBuffer.TOKENS, batch.inputs());
        put(buffers, StepBuffer.TARGETS, targets);
        put(buffers, StepBuffer.DOCUMENT_IDS, batch.documentIds());
        put(buffers, StepBuffer.POSITIONS, PositionEmbedding.documentPositions(batch.documentIds(), batch.batch(), batch.seqLen()));
        put(buffers, StepBuffer.LOSS_WEIGHT, new double[] {lossWeight});
    }

    /** The learning rate of {@code step} (0-based) of {@code steps} by the schedule, and AdamW's bias corrections. */
    void stepScalars(Buffers buffers, TrainingSpec training, int step, int steps) {
        TrainingSpec.AdamW opt = training.optimizer();
        double[] s = new double[AdamWScalarSlot.count()];
        s[AdamWScalarSlot.LEARNING_RATE.index()] = (float) training.schedule().learningRate(opt.lr(), step, steps);
        s[AdamWScalarSlot.BIAS_CORRECTION1.index()] = AdamW.biasCorrection(opt.beta1(), step + 1);
        s[AdamWScalarSlot.BIAS_CORRECTION2.index()] = AdamW.biasCorrection(opt.beta2(), step + 1);
        s[AdamWScalarSlot.CLIP_FACTOR.index()] = 1; // the gradient norm node overwrites it
        put(buffers, StepBuffer.STEP_SCALARS, s);
    }

    Value value(StepBuffer buffer) {
        Value v = byName.get(buffer.bufferName());
        if (v == null) {
            throw new IllegalArgumentException("no value %" + buffer.bufferName() + " in the step program");
        }
        return v;
    }

    private void put(Buffers buffers, StepBuffer input, int[] ints) {
        put(buffers, input, Arrays.stream(ints).asDoubleStream().toArray());
    }

    /** Inputs no node reads (positions of a model without RoPE or learned positions) are not written. */
    private void put(Buffers buffers, StepBuffer input, double[] values) {
        Value v = byName.get(input.bufferName());
        if (v != null) {
            buffers.put(v, values);
        }
    }
}
