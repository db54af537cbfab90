package dev.octet.compiler.passes;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A decoding step's weights quantized once, not per token. The weights never change while decoding, yet every
 * replay of the step quantized each of them again (on Qwen2.5-1.5B under InfiR2, 1.3 G elements a token step, more
 * than its GEMMs read). Here each weight quantization's codes and scales persist ({@code Storage.WEIGHT_CODES}); the
 * node stays where it was, and the runtime runs it when the weights are loaded and leaves it out of the replayed
 * step ({@code StepPlan.weightQuantization}). Delayed scaling is left alone (its history advances per quantization).
 */
public final class WeightsQuantizedAtLoad implements GraphPass {
    public static final String NAME = "weights_at_load";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Graph run(Graph g) {
        Map<Value, String> weights = WeightCodes.weights(g);
        Map<Value, Value> persistent = new HashMap<>();
        for (Node n : g.nodes()) {
            if (WeightCodes.quantizesWeight(n, weights)) {
                n.outputs().forEach(v -> persistent.put(v, WeightCodes.persistent(v)));
            }
        }
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            nodes.add(new Node(n.id(), n.op(), n.inputs().stream().map(v -> persistent.getOrDefault(v, v)).toList(),
                    n.outputs().stream().map(v -> persistent.getOrDefault(v, v)).toList(), n.phase()));
        }
        return g.withNodes(nodes);
    }
}
