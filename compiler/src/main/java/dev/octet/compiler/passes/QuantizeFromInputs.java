package dev.octet.compiler.passes;

import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.cuda.quant.QuantizeOperand;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Granularity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where backward's wgrad operand Xᵀ of an activation is quantized from, under FP8, so that the BF16 activation
 * need not be kept for backward. Each way recomputes X element by element with the forward kernel's own expression
 * and rounding ({@link QuantizedSource}), so the codes are bit for bit those of the stored activation.
 * <ul>
 *   <li>With the recipe's {@code recompute} ({@code norm}: RMSNorm/LayerNorm outputs; {@code activation}: SwiGLU/GELU
 *       outputs), the transposed quantization reads, in backward, what X was made from — the norm's input, weight
 *       and saved statistics, SwiGLU's gate and up, GELU's input — tensors backward keeps anyway; X dies in
 *       forward, its producer stops writing it, and the BF16 copy {@link ActivationRecomputation} made for that
 *       quantization alone is dropped.</li>
 *   <li>Without it, a SwiGLU or GELU output whose only forward reader is its fprop operand's quantization has Xᵀ
 *       quantized in forward by the activation's own kernel, from the same read of its inputs (Fusion's
 *       {@code swiglu+quantize+quantize_transpose}): backward keeps Xᵀ's FP8 codes, half of X's bytes.</li>
 * </ul>
 * Applies to 1×g groups with current scaling, which the staged transpose serves. docs/decisions.md ("Recomputed
 * wgrad operands") says what each costs.
 */
public final class QuantizeFromInputs implements GraphPass {
    public static final String NAME = "quantize_inputs";

    private final Set<Recompute> recompute;

    public QuantizeFromInputs(Set<Recompute> recompute) {
        this.recompute = Set.copyOf(recompute);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** What a quantization of a producer's first output can read instead of it. */
    public record Recomputable(QuantizedSource source, List<Value> inputs) {}

    /** The inputs and statistics {@code producer}'s first output can be recomputed from, if it is one this pass knows. */
    public static Optional<Recomputable> recomputable(Node producer) {
        return QuantizedSource.producedBy(producer.op()).map(s -> new Recomputable(s, inputsOf(producer, s)));
    }

    /** A forward producer, found again from a backward copy of it (same operator, same inputs). */
    private record Computation(Operator op, List<Value> inputs) {}

    @Override
    public Graph run(Graph g) {
        Map<Value, List<Node>> consumers = g.consumers();
        Map<Value, Node> producers = g.producers();
        Map<Computation, Node> forward = new HashMap<>();
        for (Node n : g.nodes()) {
            if (n.phase() == Phase.FORWARD && QuantizedSource.producedBy(n.op()).isPresent()) {
                forward.putIfAbsent(new Computation(n.op(), n.inputs()), n);
            }
        }
        Map<Node, Node> early = new HashMap<>();
        List<Node> rewritten = new ArrayList<>();
        for (Node n : g.nodes()) {
            Node producer = n.op() instanceof Operator.Quantize ? producers.get(n.inputs().getFirst()) : null;
            if (producer == null || !rewritable(n) || !onlyQuantizedInBackward(n.inputs().getFirst(), consumers)) {
                rewritten.add(n);
            } else if (recomputed(producer.op())) {
                Node original = producer.phase() == Phase.FORWARD ? producer
                        : forward.getOrDefault(new Computation(producer.op(), producer.inputs()), producer);
                Recomputable from = recomputable(original).orElseThrow();
                rewritten.add(n.withOp(((Operator.Quantize) n.op()).recomputing(from.source()), from.inputs()));
            } else if (writtenWithItsFpropOperand(producer, n, consumers)) {
                Recomputable from = recomputable(producer).orElseThrow();
                early.put(producer, new Node(n.id(), ((Operator.Quantize) n.op()).recomputing(from.source()),
                        from.inputs(), n.outputs(), Phase.FORWARD));
            } else {
                rewritten.add(n);
            }
        }
        List<Node> placed = new ArrayList<>();
        for (Node n : rewritten) {
            placed.add(n);
            if (early.containsKey(n)) {
                placed.add(early.get(n));
            }
        }
        return g.withNodes(withoutUnreadCopies(placed));
    }

    /**
     * Without recompute, an activation (SwiGLU, GELU) whose only other reader is its fprop operand's quantization
     * (1×g row groups, fused into the activation's kernel) has its wgrad operand quantized in forward too, by the
     * same kernel from the same read of its inputs: backward keeps the transposed FP8 codes, half the activation's
     * bytes, and no quantize kernel reads the activation again.
     */
    private static boolean writtenWithItsFpropOperand(Node producer, Node transposed, Map<Value, List<Node>> consumers) {
        if (producer.phase() != Phase.FORWARD
                || !(producer.op() instanceof Operator.SwiGlu || producer.op() instanceof Operator.Gelu)) {
            return false;
        }
        Value x = producer.outputs().getFirst();
        List<Node> readers = consumers.getOrDefault(x, List.of());
        List<Node> inForward = readers.stream().filter(c -> c.phase() == Phase.FORWARD).toList();
        if (readers.size() != 2 || inForward.size() != 1 || !(inForward.getFirst().op() instanceof Operator.Quantize rows)
                || rows.transpose() || rows.source() != QuantizedSource.STORED
                || !(rows.scaling() instanceof Scaling.Current) || !(rows.granularity() instanceof Granularity.Group g)) {
            return false;
        }
        Operator.Quantize t = (Operator.Quantize) transposed.op();
        return QuantizeGroups.alsoQuantizesRows(new QuantizeOperand(DType.BF16, t.cols(), t.rows(), true, t.format()),
                g.size());
    }

    /** Whether the recipe recomputes {@code op}'s output. */
    private boolean recomputed(Operator op) {
        return ActivationRecomputation.kindOf(op).filter(recompute::contains).isPresent();
    }

    /** The producer's inputs and saved statistics, in {@link QuantizedSource#inputs()} order. */
    private static List<Value> inputsOf(Node producer, QuantizedSource from) {
        List<Value> in = producer.inputs();
        List<Value> out = producer.outputs();
        return switch (from) {
            case SWIGLU -> List.of(in.get(0), in.get(1));
            case GELU -> List.of(in.get(0));
            case RMS_NORM -> List.of(in.get(0), in.get(1), out.get(1));
            case LAYER_NORM -> List.of(in.get(0), in.get(1), in.get(2), out.get(1), out.get(2));
            case STORED, MASTER, SWIGLU_GATE_GRADIENT, SWIGLU_UP_GRADIENT ->
                    throw new IllegalArgumentException(from + ": not an activation's producer");
        };
    }

    /** A backward transposed 1×g quantization with current scaling of a BF16 tensor as stored. */
    private static boolean rewritable(Node n) {
        Operator.Quantize q = (Operator.Quantize) n.op();
        Value x = n.inputs().getFirst();
        if (n.phase() != Phase.BACKWARD || q.source() != QuantizedSource.STORED || !q.transpose()
                || !(q.scaling() instanceof Scaling.Current) || !(q.granularity() instanceof Granularity.Group group)
                || group.size() > QuantizeGroups.maxGroup(true) || x.type().dtype() != DType.BF16) {
            return false;
        }
        QuantizeOperand operand = new QuantizeOperand(DType.BF16, q.cols(), q.rows(), true, q.format());
        return QuantizeGroups.recomputes(operand, Optional.empty());
    }

    /** Every backward reader of {@code x} is a quantization this pass rewrites, so x need not outlive forward. */
    private static boolean onlyQuantizedInBackward(Value x, Map<Value, List<Node>> consumers) {
        return consumers.getOrDefault(x, List.of()).stream().filter(c -> c.phase() != Phase.FORWARD)
                .allMatch(c -> c.op() instanceof Operator.Quantize && rewritable(c));
    }

    /** Drops backward copies of a producer whose outputs nothing reads any more. */
    private static List<Node> withoutUnreadCopies(List<Node> nodes) {
        Map<Value, Integer> reads = new HashMap<>();
        for (Node n : nodes) {
            n.inputs().forEach(v -> reads.merge(v, 1, Integer::sum));
        }
        return nodes.stream().filter(n -> n.phase() != Phase.BACKWARD || QuantizedSource.producedBy(n.op()).isEmpty()
                || n.outputs().stream().anyMatch(v -> reads.containsKey(v))).toList();
    }
}
