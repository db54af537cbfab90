package dev.octet.compiler.passes;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Weights quantized once per step, not once per micro-batch. With several micro-batches a step, every micro-batch
 * would quantize the same weights again (both layouts: fprop's and dgrad's); here each weight's quantizations move
 * into the optimizer phase, right after the AdamW update of that weight, and their codes and scales persist
 * ({@link Storage#WEIGHT_CODES}) for every micro-batch of the next step. The runtime runs them once more whenever
 * masters change outside a step (initialisation, a checkpoint loaded): {@code Node.writesWeightCodes}.
 *
 * <p>With one micro-batch a step nothing is saved and the codes would hold memory across the step, so the pass
 * leaves such a step alone. Delayed scaling is left alone too: its amax history advances once per quantization,
 * and moving the quantization would change what it records.
 */
public final class WeightsQuantizedPerStep implements GraphPass {
    public static final String NAME = "weights_per_step";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Graph run(Graph g) {
        if (g.shape().accumulation() < 2) {
            return g;
        }
        Map<Value, String> weights = WeightCodes.weights(g);
        Map<String, List<Node>> moved = new HashMap<>();
        Map<Value, Value> persistent = new HashMap<>();
        for (Node n : g.nodes()) {
            if (n.phase() != Phase.OPTIMIZER && WeightCodes.quantizesWeight(n, weights)) {
                List<Value> out = n.outputs().stream().map(v -> persistent.computeIfAbsent(v, WeightCodes::persistent))
                        .toList();
                moved.computeIfAbsent(weights.get(n.inputs().getFirst()), k -> new ArrayList<>())
                        .add(new Node(n.id(), n.op(), n.inputs(), out, Phase.OPTIMIZER));
            }
        }
        if (moved.isEmpty()) {
            return g;
        }
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.op() instanceof Operator.Quantize && n.phase() != Phase.OPTIMIZER && persistent.containsKey(n.outputs().getFirst())) {
                continue;  // placed after its weight's update
            }
            nodes.add(new Node(n.id(), n.op(), n.inputs().stream().map(v -> persistent.getOrDefault(v, v)).toList(),
                    n.outputs(), n.phase()));
            if (n.op() instanceof Operator.AdamWUpdate a) {
                nodes.addAll(moved.getOrDefault(a.parameter(), List.of()));
            }
        }
        return g.withNodes(nodes);
    }
}
