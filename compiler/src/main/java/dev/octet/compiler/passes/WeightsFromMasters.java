package dev.octet.compiler.passes;

import dev.octet.compiler.cuda.quant.QuantizeTiled;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Scaling;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Weights quantized from their FP32 masters. A weight that only FP8 GEMMs read reaches them through
 * quantizations of its BF16 working copy; where the quantize kernel rounds the master to BF16 itself (the staged
 * 64/128 blocks of {@link QuantizeTiled}, current scaling: the InfiR2 weights) each of them reads the master
 * instead, and the working copy, now unread, is dropped: AdamW stops writing it and the memory plan holds no
 * bytes for it (2 bytes a parameter). The codes are bit for bit those of the working copy, as the copy is the
 * master rounded to nearest even and the kernel rounds the same way; a weight quantize kernel reads 4 bytes an
 * element instead of 2 (docs/decisions.md, "Weights quantized from their masters"). A working copy that anything
 * else reads (an embedding table, a norm's weight, a layer the recipe keeps in BF16) stays as it is.
 */
public final class WeightsFromMasters implements GraphPass {
    public static final String NAME = "weights_from_masters";

    @Override
    public String name() {
        return NAME;
    }

    /** Whether {@code q}'s kernel can read a master and round it to BF16 as it stages it. */
    public static boolean quantizesMaster(Operator.Quantize q) {
        return q.source() == QuantizedSource.STORED && q.scaling() instanceof Scaling.Current
                && QuantizeTiled.readsMaster(q.granularity());
    }

    @Override
    public Graph run(Graph g) {
        Map<Value, List<Node>> consumers = g.consumers();
        Map<Value, Parameter> dropped = new HashMap<>();
        for (Parameter p : g.parameters()) {
            p.shadow().filter(s -> onlyQuantized(consumers.getOrDefault(s, List.of())))
                    .ifPresent(s -> dropped.put(s, p));
        }
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.op() instanceof Operator.Quantize q && !n.inputs().isEmpty() && dropped.containsKey(n.inputs().getFirst())) {
                List<Value> in = new ArrayList<>(n.inputs());
                in.set(0, dropped.get(n.inputs().getFirst()).master());
                nodes.add(n.withOp(q.recomputing(QuantizedSource.MASTER), in));
            } else if (n.op() instanceof Operator.AdamWUpdate && n.outputs().stream().anyMatch(dropped::containsKey)) {
                nodes.add(new Node(n.id(), n.op(), n.inputs(),
                        n.outputs().stream().filter(v -> !dropped.containsKey(v)).toList(), n.phase()));
            } else {
                nodes.add(n);
            }
        }
        List<Parameter> parameters = g.parameters().stream()
                .map(p -> p.shadow().filter(dropped::containsKey).isPresent() ? p.withoutShadow() : p).toList();
        return new Graph(g.shape(), parameters, g.inputs(), nodes);
    }

    /** Some reader, and every one a quantization whose kernel can read the master instead. */
    private static boolean onlyQuantized(List<Node> readers) {
        return !readers.isEmpty() && readers.stream()
                .allMatch(n -> n.op() instanceof Operator.Quantize q && n.inputs().size() == 1 && quantizesMaster(q));
    }
}
