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
 * The recipe's {@code recompute} under FP8: backward's transposed quantization of a recomputed activation (the
 * wgrad operand Xᵀ) reads what the activation was made from instead of the activation — SwiGLU's gate and up,
 * GELU's input ({@code activation}), a norm's input, weight and saved statistics ({@code norm}), tensors backward
 * keeps anyway for the activation's own backward. The quantize kernel recomputes each element with the forward
 * kernel's own expression and rounding ({@link QuantizedSource}), so the codes are bit for bit those of the stored
 * activation, and the activation, when nothing else in backward reads it, dies in forward: its producer stops
 * writing it, and the BF16 copy {@link ActivationRecomputation} made for that quantization alone is dropped
 * (Qwen2.5-1.5B at 2 × 8192: the SwiGLU output, 280 MiB a layer, and the two norm outputs; docs/decisions.md says
 * what it costs). Applies to 1×g groups with current scaling, which the staged transpose serves.
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
        return source(producer.op()).map(s -> new Recomputable(s, inputsOf(producer, s)));
    }

    /** A forward producer, found again from a backward copy of it (same operator, same inputs). */
    private record Computation(Operator op, List<Value> inputs) {}

    @Override
    public Graph run(Graph g) {
        Map<Value, List<Node>> consumers = g.consumers();
        Map<Value, Node> producers = g.producers();
        Map<Computation, Node> forward = new HashMap<>();
        for (Node n : g.nodes()) {
            if (n.phase() == Phase.FORWARD && source(n.op()).isPresent()) {
                forward.putIfAbsent(new Computation(n.op(), n.inputs()), n);
            }
        }
        List<Node> rewritten = new ArrayList<>();
        for (Node n : g.nodes()) {
            Node producer = n.op() instanceof Operator.Quantize ? producers.get(n.inputs().getFirst()) : null;
            if (producer != null && rewritable(n) && recomputed(producer.op())
                    && onlyQuantizedInBackward(n.inputs().getFirst(), consumers)) {
                Node original = producer.phase() == Phase.FORWARD ? producer
                        : forward.getOrDefault(new Computation(producer.op(), producer.inputs()), producer);
                Recomputable from = recomputable(original).orElseThrow();
                rewritten.add(n.withOp(((Operator.Quantize) n.op()).recomputing(from.source()), from.inputs()));
            } else {
                rewritten.add(n);
            }
        }
        return g.withNodes(withoutUnreadCopies(rewritten));
    }

    /** Whether the recipe recomputes {@code op}'s output. */
    private boolean recomputed(Operator op) {
        return switch (op) {
            case Operator.SwiGlu s -> recompute.contains(Recompute.ACTIVATION);
            case Operator.Gelu ge -> recompute.contains(Recompute.ACTIVATION);
            case Operator.RmsNorm n -> recompute.contains(Recompute.NORM);
            case Operator.LayerNorm n -> recompute.contains(Recompute.NORM);
            default -> false;
        };
    }

    /** What a Quantize of {@code op}'s first output can recompute it from. */
    private static Optional<QuantizedSource> source(Operator op) {
        return switch (op) {
            case Operator.SwiGlu s -> Optional.of(QuantizedSource.SWIGLU);
            case Operator.Gelu ge -> Optional.of(QuantizedSource.GELU);
            case Operator.RmsNorm n -> Optional.of(QuantizedSource.RMS_NORM);
            case Operator.LayerNorm n -> Optional.of(QuantizedSource.LAYER_NORM);
            default -> Optional.empty();
        };
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
            case STORED -> throw new IllegalArgumentException("nothing to recompute");
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
        return nodes.stream().filter(n -> n.phase() != Phase.BACKWARD || source(n.op()).isEmpty()
                || n.outputs().stream().anyMatch(v -> reads.containsKey(v))).toList();
    }
}
