package dev.octet.cpu.ir;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Value;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import java.util.List;

/**
 * A training step program run on the CPU: load the parameters once, then per step run forward and backward
 * over the micro-batches (gradients accumulate) and the optimizer. Between the two a caller can read the
 * accumulated gradients, which the optimizer zeroes.
 */
public sealed interface StepExecutor permits GraphExecutor, PlanExecutor {
    /** The step program, in the order its nodes run. */
    Graph graph();

    /** Initial state: masters from {@code initial}, BF16 working copies, zero gradients and optimizer state. */
    void load(ParameterStore initial);

    /** Forward and backward over the micro-batches of one step; returns the step's mean loss. */
    double forwardBackward(List<TokenBatch> microBatches);

    /** The optimizer for 0-based {@code step} of {@code steps}; returns the gradient norm before clipping. */
    double optimize(int step, int steps);

    /** The current contents of a value, decoded from its element type. */
    double[] read(Value v);

    default double[] read(String valueName) {
        return read(graph().value(valueName).orElseThrow(
                () -> new IllegalArgumentException("no value %" + valueName + " in the step program")));
    }

    /** One whole training step. */
    default StepResult step(List<TokenBatch> microBatches, int step, int steps) {
        double loss = forwardBackward(microBatches);
        double norm = optimize(step, steps);
        return new StepResult(loss, norm);
    }

    /** What the host reads after a step. */
    record StepResult(double loss, double gradientNorm) {}
}
