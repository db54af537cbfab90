package dev.octet.compiler.passes;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Scaling;
import java.util.HashMap;
import java.util.Map;

/**
 * What the passes that keep weights' FP8 codes across steps ({@link WeightsQuantizedPerStep},
 * {@link WeightsQuantizedAtLoad}) agree on: which quantizations read a weight, and the persistent form of their
 * outputs.
 */
final class WeightCodes {
    private WeightCodes() {}

    /** {@code v} as persistent weight codes (same id and name). */
    static Value persistent(Value v) {
        return new Value(v.id(), v.name(), v.type(), Storage.WEIGHT_CODES);
    }

    /** A current-scaling quantization reading nothing but a weight's master or working copy. */
    static boolean quantizesWeight(Node n, Map<Value, String> weights) {
        return n.op() instanceof Operator.Quantize q && q.scaling() instanceof Scaling.Current && n.inputs().size() == 1
                && weights.containsKey(n.inputs().getFirst());
    }

    /** Every parameter's master and working copy, mapped to the parameter's name. */
    static Map<Value, String> weights(Graph g) {
        Map<Value, String> weights = new HashMap<>();
        for (Parameter p : g.parameters()) {
            weights.put(p.master(), p.name());
            p.shadow().ifPresent(s -> weights.put(s, p.name()));
        }
        return weights;
    }
}
