package dev.octet.compiler.ir;

import java.util.HashSet;
import java.util.Set;

/**
 * The text form of a graph, stable for golden tests: a header, the host inputs, the parameters, then each
 * phase's nodes with the declaration of every value at its first write.
 */
public final class IrPrinter {
    private IrPrinter() {}

    public static String print(Graph g) {
        StringBuilder sb = new StringBuilder(header(g));
        Set<Value> declared = new HashSet<>(g.inputs());
        for (Parameter p : g.parameters()) {
            declared.addAll(p.values());
        }
        Phase phase = null;
        for (Node n : g.nodes()) {
            if (n.phase() != phase) {
                phase = n.phase();
                sb.append('\n').append(phase.lowerName()).append(":\n");
            }
            sb.append("  ").append(n.render()).append('\n');
            for (Value out : n.outputs()) {
                if (declared.add(out)) {
                    sb.append("    ").append(out.declaration()).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /** The step shape, host inputs and parameters. */
    public static String header(Graph g) {
        StringBuilder sb = new StringBuilder();
        StepShape s = g.shape();
        sb.append("step ").append(s.model()).append(" recipe=").append(s.recipe()).append(" batch=").append(s.batch())
                .append(" seq=").append(s.seq()).append(" accumulation=").append(s.accumulation()).append('\n');
        for (Value v : g.inputs()) {
            sb.append("input ").append(v.declaration()).append('\n');
        }
        for (Parameter p : g.parameters()) {
            sb.append("param ").append(p.name()).append(": ").append(p.master().type().shape())
                    .append(p.decays() ? " decays" : "").append('\n');
        }
        return sb.toString();
    }
}
