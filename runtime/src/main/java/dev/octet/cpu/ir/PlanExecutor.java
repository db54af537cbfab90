package dev.octet.cpu.ir;

import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.StepBuffer;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;

/**
 * Runs the compiled form of a step: the fusion groups in plan order, each group's nodes in order, over one
 * byte arena laid out by the memory plan (poisoned before the first step). Fusion and memory reuse change
 * where values live and which stay in registers, never what is computed, so this must agree with
 * {@link GraphExecutor} bit for bit; a planning bug (two live values sharing bytes, a read before the
 * write) shows up as a difference or a NaN.
 */
public final class PlanExecutor implements StepExecutor {
    private final FusedGraph fused;
    private final TrainingSpec training;
    private final HostInputs host;
    private final ArenaBuffers buffers;
    private final NodeExecutor executor = new NodeExecutor();

    public PlanExecutor(StepPlan plan, TrainingSpec training) {
        this.fused = plan.kernels().fused();
        if (fused.graph().shape().accumulation() != training.accumulation()) {
            throw new IllegalArgumentException("plan built for " + fused.graph().shape().accumulation()
                    + " micro-batches per step, training asks " + training.accumulation());
        }
        this.training = training;
        this.host = new HostInputs(fused.graph());
        this.buffers = new ArenaBuffers(plan.memory(), fused.internalValues());
    }

    @Override
    public Graph graph() {
        return fused.graph();
    }

    @Override
    public void load(ParameterStore initial) {
        host.load(buffers, initial);
        // Weights quantized once per step: their codes for the first step, from the masters just loaded.
        for (FusionGroup g : fused.groups()) {
            if (g.writesWeightCodesOnly()) {
                g.nodes().forEach(n -> executor.execute(n, buffers));
                buffers.endKernel();
            }
        }
    }

    @Override
    public double forwardBackward(List<TokenBatch> microBatches) {
        GraphExecutor.requireMicroBatches(microBatches, graph());
        host.startStep(buffers);
        double lossWeight = HostInputs.lossWeight(microBatches);
        for (TokenBatch batch : microBatches) {
            host.microBatch(buffers, batch, lossWeight);
            runGroups(false);
        }
        return buffers.get(host.value(StepBuffer.LOSS))[0];
    }

    @Override
    public double optimize(int step, int steps) {
        host.stepScalars(buffers, training, step, steps);
        runGroups(true);
        return buffers.get(host.value(StepBuffer.GRAD_NORM))[0];
    }

    @Override
    public double[] read(Value v) {
        return buffers.get(v);
    }

    private void runGroups(boolean optimizer) {
        for (FusionGroup g : fused.groups()) {
            if ((g.phase() == Phase.OPTIMIZER) != optimizer) {
                continue;
            }
            for (Node n : g.nodes()) {
                executor.execute(n, buffers);
            }
            buffers.endKernel();
        }
    }
}
