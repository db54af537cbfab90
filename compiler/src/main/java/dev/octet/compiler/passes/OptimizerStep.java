package dev.octet.compiler.passes;

import dev.octet.compiler.cuda.optim.AdamWScalarSlot;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.GraphWriter;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.TensorType;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.StepBuffer;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Appends the optimizer to the step: the global gradient norm (for clipping and for the host to log), then
 * one AdamW update per parameter that also refreshes the BF16 working copy and zeroes the gradient.
 * The learning rate and bias corrections change every step, so they are read from a device buffer the host
 * writes ({@code step_scalars}, slots as {@link AdamWScalarSlot} lays them out), never baked into kernels: the step replays as one CUDA graph.
 * The clip factor is written into the same buffer on the device by the gradient norm.
 */
public final class OptimizerStep implements GraphPass {

    private final TrainingSpec.AdamW adamw;
    private final double clipNorm;

    public OptimizerStep(TrainingSpec.AdamW adamw, double clipNorm) {
        this.adamw = adamw;
        this.clipNorm = clipNorm;
    }

    @Override
    public String name() {
        return "optimizer";
    }

    @Override
    public Graph run(Graph g) {
        GraphWriter w = GraphWriter.continuing(g);
        g.nodes().forEach(w::keep);
        Value scalars = w.value(StepBuffer.STEP_SCALARS.bufferName(), TensorType.of(DType.F32, AdamWScalarSlot.count()), Storage.INPUT);
        Value norm = w.value(StepBuffer.GRAD_NORM.bufferName(), TensorType.of(DType.F32, 1), Storage.OUTPUT);
        List<Value> grads = g.parameters().stream().map(Parameter::gradient).toList();
        Value loss = g.value(StepBuffer.LOSS.bufferName())
                .orElseThrow(() -> new IllegalArgumentException("a training step without a loss"));
        List<Value> normInputs = new ArrayList<>(grads);
        normInputs.add(loss);  // a non-finite loss skips the update on the device, as a non-finite norm does
        w.add(new Operator.GradientNorm(clipNorm, grads.size()), normInputs, List.of(norm, scalars), Phase.OPTIMIZER);
        for (Parameter p : g.parameters()) {
            List<Value> out = new ArrayList<>(List.of(p.master(), p.m(), p.v(), p.gradient()));
            p.shadow().ifPresent(out::add);
            w.add(new Operator.AdamWUpdate(p.name(), p.master().type().elements(), adamw.beta1(), adamw.beta2(),
                            adamw.eps(), adamw.weightDecay(), p.decays()),
                    List.of(p.master(), p.gradient(), p.m(), p.v(), scalars), out, Phase.OPTIMIZER);
        }
        List<Value> inputs = new ArrayList<>(g.inputs());
        inputs.add(scalars);
        return new Graph(g.shape(), g.parameters(), inputs, w.nodes());
    }

}
