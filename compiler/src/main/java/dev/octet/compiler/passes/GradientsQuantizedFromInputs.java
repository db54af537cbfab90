package dev.octet.compiler.passes;

import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.cuda.quant.QuantizeOperand;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Granularity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * SwiGLU's gradients quantized from what they are computed from. Under FP8 the gate and up projections' dgrad and
 * wgrad read dgate and dup only as FP8 codes (row groups and transposed groups), so SwiGLU backward would write
 * both in BF16 for quantizations to read them back. Here, where every reader of both gradients is such a
 * quantization, each recomputes its gradient from gate, up and dh ({@link QuantizedSource#SWIGLU_GATE_GRADIENT},
 * {@link QuantizedSource#SWIGLU_UP_GRADIENT}) with SwiGLU backward's own device function and rounding, so the codes
 * are bit for bit those of the stored gradients, and SwiGLU backward no longer runs. Fusion then gives all four
 * quantizations one kernel, whose neighbouring blocks write the two gradients of the same tile, so gate, up and dh
 * are read from memory about once (the second block finds them in L2).
 */
public final class GradientsQuantizedFromInputs implements GraphPass {
    public static final String NAME = "gradients_from_inputs";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Graph run(Graph g) {
        Map<Value, List<Node>> consumers = g.consumers();
        Map<Node, Node> rewritten = new HashMap<>();
        List<Node> dropped = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Operator.SwiGluBackward)) {
                continue;
            }
            Map<Node, Node> here = new HashMap<>();
            boolean every = true;
            for (int o = 0; o < n.outputs().size() && every; o++) {
                List<Node> readers = consumers.getOrDefault(n.outputs().get(o), List.of());
                QuantizedSource source = QuantizedSource.gradientOf(n.op(), o).orElseThrow();
                every = servedTogether(readers, n.outputs().get(o));
                for (Node r : every ? readers : List.<Node>of()) {
                    here.put(r, r.withOp(((Operator.Quantize) r.op()).recomputing(source), n.inputs()));
                }
            }
            if (every) {
                rewritten.putAll(here);
                dropped.add(n);
            }
        }
        if (dropped.isEmpty()) {
            return g;
        }
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!dropped.contains(n)) {
                nodes.add(rewritten.getOrDefault(n, n));
            }
        }
        return g.withNodes(nodes);
    }

    /**
     * Whether one staged kernel can write every reader of gradient {@code x} from its recomputed tiles: a transposed
     * 1×g quantization with current scaling (g within what the staged transpose holds) and at most one row-group
     * quantization that kernel can write beside it.
     */
    private static boolean servedTogether(List<Node> readers, Value x) {
        if (readers.isEmpty() || readers.size() > 2 || x.type().dtype() != DType.BF16) {
            return false;
        }
        Optional<Operator.Quantize> transposed = readers.stream().map(Node::op)
                .filter(op -> op instanceof Operator.Quantize q && q.transpose()).map(op -> (Operator.Quantize) op).findFirst();
        if (transposed.isEmpty() || !currentGroups(transposed.get(), QuantizeGroups.maxGroup(true))) {
            return false;
        }
        Operator.Quantize t = transposed.get();
        QuantizeOperand operand = new QuantizeOperand(DType.BF16, t.cols(), t.rows(), true, t.format());
        for (Node r : readers) {
            if (!(r.op() instanceof Operator.Quantize q) || r.inputs().size() != 1) {
                return false;
            }
            if (!q.transpose() && !(currentGroups(q, Integer.MAX_VALUE)
                    && QuantizeGroups.alsoQuantizesRows(operand, ((Granularity.Group) q.granularity()).size()))) {
                return false;
            }
        }
        return readers.stream().filter(r -> ((Operator.Quantize) r.op()).transpose()).count() == 1;
    }

    private static boolean currentGroups(Operator.Quantize q, int maxGroup) {
        return q.source() == QuantizedSource.STORED && q.scaling() instanceof Scaling.Current
                && q.granularity() instanceof Granularity.Group group && group.size() <= maxGroup;
    }
}
