package dev.octet.compiler.passes;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.GraphWriter;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Recompute;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Activation recomputation, as the recipe asks: for each forward norm ({@code norm}) or SwiGLU/GELU
 * ({@code activation}) whose first output backward reads, a copy of the node runs again just before the
 * first backward reader, and backward reads the copy. The forward output then dies in forward; what the
 * copy reads (the norm's input, the two projections) is kept for backward anyway. Costs one elementwise
 * kernel per recomputed tensor; saves its memory across the whole forward/backward gap.
 */
public final class ActivationRecomputation implements GraphPass {
    private final Set<Recompute> what;

    public ActivationRecomputation(Set<Recompute> what) {
        this.what = Set.copyOf(what);
    }

    @Override
    public String name() {
        return "recompute";
    }

    @Override
    public Graph run(Graph g) {
        if (what.isEmpty()) {
            return g;
        }
        Map<Value, Node> recomputable = new HashMap<>();
        for (Node n : g.nodes()) {
            if (n.phase() == Phase.FORWARD && selected(n.op())) {
                recomputable.put(n.outputs().getFirst(), n);
            }
        }
        GraphWriter w = GraphWriter.continuing(g);
        Map<Value, Value> replaced = new HashMap<>();
        for (Node n : g.nodes()) {
            if (n.phase() == Phase.FORWARD) {
                w.keep(n);
                continue;
            }
            List<Value> inputs = new ArrayList<>();
            for (Value v : n.inputs()) {
                Node producer = recomputable.get(v);
                if (producer != null && !replaced.containsKey(v)) {
                    List<Value> outs = new ArrayList<>();
                    for (Value o : producer.outputs()) {
                        outs.add(w.value(o.name() + ".recomputed", o.type(), o.storage()));
                    }
                    w.add(producer.op(), producer.inputs(), outs, Phase.BACKWARD);
                    replaced.put(v, outs.getFirst());
                }
                inputs.add(replaced.getOrDefault(v, v));
            }
            w.keep(n.withInputs(inputs));
        }
        return g.withNodes(w.nodes());
    }

    private boolean selected(Operator op) {
        return kindOf(op).filter(what::contains).isPresent();
    }

    /** Which of the recipe's {@code recompute} entries covers {@code op}'s output, if any. */
    static Optional<Recompute> kindOf(Operator op) {
        return QuantizedSource.producedBy(op).map(QuantizedSource::recomputedUnder);
    }
}
