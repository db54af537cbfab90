package dev.octet.cpu.ir;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.StepBuffer;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;

/**
 * Runs an unfused step graph node by node, every value in its own array: the reference the compiled plan
 * must reproduce bit for bit, and the IR's own check against the model-level oracle.
 */
public final class GraphExecutor implements StepExecutor {
    private final Graph graph;
    private final TrainingSpec training;
    private final HostInputs host;
    private final ValueBuffers buffers = new ValueBuffers();
    private final NodeExecutor executor = new NodeExecutor();

    public GraphExecutor(Graph graph, TrainingSpec training) {
        if (graph.shape().accumulation() != training.accumulation()) {
            throw new IllegalArgumentException("graph built for " + graph.shape().accumulation()
                    + " micro-batches per step, training asks " + training.accumulation());
        }
        this.graph = graph;
        this.training = training;
        this.host = new HostInputs(graph);
    }

    @Override
    public Graph graph() {
        return graph;
    }

    @Override
    public void load(ParameterStore initial) {
        host.load(buffers, initial);
        // Weights quantized once per step: their codes for the first step, from the masters just loaded.
        graph.nodes().stream().filter(Node::writesWeightCodes).forEach(n -> executor.execute(n, buffers));
    }

    @Override
    public double forwardBackward(List<TokenBatch> microBatches) {
        requireMicroBatches(microBatches, graph);
        host.startStep(buffers);
        double lossWeight = HostInputs.lossWeight(microBatches);
        for (TokenBatch batch : microBatches) {
            host.microBatch(buffers, batch, lossWeight);
            for (Node n : graph.nodes()) {
                if (n.phase() != Phase.OPTIMIZER) {
                    executor.execute(n, buffers);
                }
            }
        }
        return buffers.get(host.value(StepBuffer.LOSS))[0];
    }

    @Override
    public double optimize(int step, int steps) {
        host.stepScalars(buffers, training, step, steps);
        for (Node n : graph.nodes()) {
            if (n.phase() == Phase.OPTIMIZER) {
                executor.execute(n, buffers);
            }
        }
        return buffers.get(host.value(StepBuffer.GRAD_NORM))[0];
    }

    @Override
    public double[] read(Value v) {
        return buffers.get(v);
    }

    static void requireMicroBatches(List<TokenBatch> microBatches, Graph graph) {
        if (microBatches.size() != graph.shape().accumulation()) {
            throw new IllegalArgumentException("a step takes " + graph.shape().accumulation() + " micro-batches, got "
                    + microBatches.size());
        }
        for (TokenBatch b : microBatches) {
            if (b.batch() != graph.shape().batch() || b.seqLen() != graph.shape().seq()) {
                throw new IllegalArgumentException("micro-batch " + b.batch() + "x" + b.seqLen() + " does not fit a step of "
                        + graph.shape().batch() + "x" + graph.shape().seq());
            }
        }
    }
}
