package dev.octet.compiler.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The step graph partitioned into fusion groups, in execution order. A transient value written and read
 * only inside one group is internal to it: it stays in registers, or in a scratch buffer of the group's
 * launches, and no other kernel depends on it.
 */
public record FusedGraph(Graph graph, List<FusionGroup> groups) {
    public FusedGraph {
        groups = List.copyOf(groups);
    }

    /** Transient values produced inside a group and read by no node outside it. */
    public Set<Value> internalValues() {
        Map<Value, FusionGroup> producer = new HashMap<>();
        Map<Value, Set<FusionGroup>> readers = new HashMap<>();
        for (FusionGroup g : groups) {
            for (Node n : g.nodes()) {
                n.outputs().forEach(v -> producer.putIfAbsent(v, g));
                n.inputs().forEach(v -> readers.computeIfAbsent(v, k -> new HashSet<>()).add(g));
            }
        }
        Set<Value> internal = new HashSet<>();
        producer.forEach((v, g) -> {
            Set<FusionGroup> r = readers.getOrDefault(v, Set.of());
            if (v.storage() == Storage.TRANSIENT && !r.isEmpty() && r.equals(Set.of(g))) {
                internal.add(v);
            }
        });
        return internal;
    }

    public String print() {
        StringBuilder sb = new StringBuilder(IrPrinter.header(graph));
        Set<Value> internal = internalValues();
        Phase phase = null;
        for (FusionGroup g : groups) {
            if (g.phase() != phase) {
                phase = g.phase();
                sb.append('\n').append(phase.lowerName()).append(":\n");
            }
            sb.append("  kernel ").append(g.id()).append(' ').append(g.pattern()).append('\n');
            for (Node n : g.nodes()) {
                sb.append("    ").append(n.render()).append('\n');
            }
            List<String> kept = new ArrayList<>();
            for (Node n : g.nodes()) {
                for (Value v : n.outputs()) {
                    if (internal.contains(v)) {
                        kept.add(v.toString());
                    }
                }
            }
            if (!kept.isEmpty()) {
                sb.append("    (internal: ").append(String.join(", ", kept)).append(")\n");
            }
        }
        return sb.toString();
    }
}
