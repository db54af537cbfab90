package dev.octet.compiler.passes;

import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.cuda.quant.QuantizeOperand;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Granularity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Partitions the step into kernels. Walking the nodes in order, each node not yet taken roots a group and
 * pulls in the later nodes a kernel template can absorb, provided everything they read is ready when the
 * root runs:
 * <ul>
 *   <li>{@code gemm+residual}: a GEMM whose output only feeds an add — the residual stream in forward, a
 *       second gradient contribution in backward — adds the other operand in its epilogue;</li>
 *   <li>{@code add+norm}: a residual add feeding a norm is done by the norm kernel, which writes the sum;</li>
 *   <li>{@code ...+quantize}: the first non-transposed 1×g group quantization with current scaling of a
 *       norm's or activation's output is written by that kernel from the BF16 value it just rounded (so it
 *       equals a separate quantize);</li>
 *   <li>{@code swiglu+quantize+quantize_transpose} (and GELU's): an activation whose wgrad operand is quantized in
 *       forward (QuantizeFromInputs) is never stored: one staged kernel computes it from its inputs and writes its
 *       row groups and its transposed groups;</li>
 *   <li>{@code quantize+quantize_transpose}: a tensor quantized in 1×g groups both along its rows (for fprop
 *       or dgrad) and transposed (for wgrad), such as a gradient dY, is read once by one kernel writing both;</li>
 *   <li>{@code quantize+quantize_transpose+bias_gradient}: the same, where dY also feeds a bias gradient: the
 *       kernel writes each tile's column sums too, and the gradient adds them up;</li>
 *   <li>{@code quantize+quantize_transpose+sibling}: SwiGLU's two gradients recomputed from its inputs
 *       (GradientsQuantizedFromInputs), each in both layouts, by one kernel taking each tile for both;</li>
 *   <li>{@code norm_backward+add}: the residual gradient is added by the norm backward kernel;</li>
 *   <li>{@code cross_entropy}: loss, its sum and dlogits in one pass over the logits (dlogits overwrite
 *       the logits, which nothing reads afterwards), so the backward's first kernel runs in forward.</li>
 * </ul>
 * Other transposed quantizations are their own fused cast+transpose kernels; bias and gradient accumulation
 * are GEMM epilogue options already. Everything else is a group of one.
 */
public final class Fusion {
    public static final String NAME = "fuse";

    private Fusion() {}

    public static FusedGraph run(Graph g) {
        return new Partition(g).run();
    }

    private static final class Partition {
        private final Graph g;
        private final List<Node> nodes;
        private final Map<Value, List<Node>> consumers;
        private final Map<Value, Integer> producedAt = new HashMap<>();
        private final Map<Node, Integer> index = new HashMap<>();
        private final Set<Node> taken = new HashSet<>();

        Partition(Graph g) {
            this.g = g;
            this.nodes = g.nodes();
            this.consumers = g.consumers();
            for (int i = 0; i < nodes.size(); i++) {
                Node n = nodes.get(i);
                index.put(n, i);
                for (Value v : n.outputs()) {
                    producedAt.putIfAbsent(v, i);
                }
            }
        }

        FusedGraph run() {
            List<FusionGroup> groups = new ArrayList<>();
            List<Node> order = new ArrayList<>();
            for (Node n : nodes) {
                if (taken.contains(n)) {
                    continue;
                }
                taken.add(n);
                List<Node> members = new ArrayList<>(List.of(n));
                String pattern = grow(n, members);
                taken.addAll(members);
                groups.add(new FusionGroup(groups.size(), pattern, members));
                order.addAll(members);
            }
            return new FusedGraph(g.withNodes(order), groups);
        }

        private String grow(Node root, List<Node> members) {
            Value out = root.outputs().getFirst();
            switch (root.op()) {
                case Operator.MatMul mm when !mm.accumulate() -> {
                    Optional<Node> add = soleConsumer(out, Operator.Add.class).filter(a -> othersReadyBefore(a, out, root));
                    if (add.isPresent()) {
                        members.add(add.get());
                        return "gemm+residual";
                    }
                    return "gemm";
                }
                case Operator.MatMul mm -> {
                    return "gemm";
                }
                case Operator.Add add -> {
                    Optional<Node> norm = firstFree(out, n -> (n.op() instanceof Operator.RmsNorm
                            || n.op() instanceof Operator.LayerNorm) && n.inputs().getFirst().equals(out)
                            && othersReadyBefore(n, out, root));
                    if (norm.isEmpty()) {
                        return "add";
                    }
                    members.add(norm.get());
                    return quantizeOf(norm.get(), members) ? "add+" + mnemonic(norm.get()) + "+quantize"
                            : "add+" + mnemonic(norm.get());
                }
                case Operator.RmsNorm n -> {
                    return quantizeOf(root, members) ? "rmsnorm+quantize" : "rmsnorm";
                }
                case Operator.LayerNorm n -> {
                    return quantizeOf(root, members) ? "layernorm+quantize" : "layernorm";
                }
                case Operator.SwiGlu s -> {
                    return activationQuantized(root, members, "swiglu");
                }
                case Operator.Gelu ge -> {
                    return activationQuantized(root, members, "gelu");
                }
                case Operator.Quantize q -> {
                    Optional<Node> other = otherLayout(root, q);
                    other.ifPresent(members::add);
                    String pattern = other.isPresent() ? "quantize+quantize_transpose" : q.mnemonic();
                    if (siblingsOf(root, members)) {
                        return pattern + "+sibling";
                    }
                    return other.isPresent() && biasGradientOf(root, q, members) ? pattern + "+bias_gradient" : pattern;
                }
                case Operator.RmsNormBackward b -> {
                    return residualGradient(root, out, members) ? "rmsnorm_backward+add" : "rmsnorm_backward";
                }
                case Operator.LayerNormBackward b -> {
                    return residualGradient(root, out, members) ? "layernorm_backward+add" : "layernorm_backward";
                }
                case Operator.CrossEntropy ce -> {
                    Value tokenLoss = root.outputs().get(0);
                    Optional<Node> sum = firstFree(tokenLoss, n -> n.op() instanceof Operator.LossSum);
                    Optional<Node> backward = firstFree(root.inputs().getFirst(),
                            n -> n.op() instanceof Operator.CrossEntropyBackward && readyAfter(n, root));
                    sum.ifPresent(members::add);
                    backward.ifPresent(members::add);
                    return backward.isPresent() ? "cross_entropy+backward" : "cross_entropy";
                }
                default -> {
                    return root.op().mnemonic();
                }
            }
        }

        /** Pulls in the first free non-transposed quantization of the root's first output. */
        private boolean quantizeOf(Node producer, List<Node> members) {
            Value y = producer.outputs().getFirst();
            Optional<Node> q = firstFree(y, n -> n.op() instanceof Operator.Quantize qz && fusableIntoProducer(qz)
                    && n.phase() == producer.phase());
            q.ifPresent(members::add);
            return q.isPresent();
        }

        /**
         * An activation with its fprop operand's quantization, and with its wgrad operand's where QuantizeFromInputs
         * placed that right after it, reading the activation's inputs: one staged kernel writes both.
         */
        private String activationQuantized(Node root, List<Node> members, String name) {
            if (!quantizeOf(root, members)) {
                return name;
            }
            Optional<Node> transposed = firstFree(root.inputs().getFirst(), n -> n.op() instanceof Operator.Quantize q
                    && q.transpose() && q.source() != QuantizedSource.STORED && n.phase() == root.phase()
                    && n.inputs().equals(root.inputs()));
            transposed.ifPresent(members::add);
            return transposed.isPresent() ? name + "+quantize+quantize_transpose" : name + "+quantize";
        }

        /**
         * A producer kernel holds whole rows, so it can quantize in 1×g groups along them from the current
         * amax; tensor-wide or delayed scales need an amax over the whole tensor first, and block scales
         * span rows.
         */
        private static boolean fusableIntoProducer(Operator.Quantize q) {
            return !q.transpose() && q.granularity() instanceof Granularity.Group && q.scaling() instanceof Scaling.Current
                    && q.source() == QuantizedSource.STORED;
        }

        /**
         * The free quantization of the same tensor in the other layout that one kernel can write together with
         * this one: both 1×g groups from the current amax, the transposed one within what the staged transpose
         * holds, the row groups within its tiles.
         */
        private Optional<Node> otherLayout(Node root, Operator.Quantize q) {
            Value x = root.inputs().getFirst();
            if (!bothLayoutsCandidate(q) || x.type().dtype() != DType.BF16) {
                return Optional.empty();
            }
            return firstFree(x, n -> n.op() instanceof Operator.Quantize other && n != root && n.phase() == root.phase()
                    && bothLayoutsCandidate(other) && other.transpose() != q.transpose() && other.source() == q.source()
                    && n.inputs().equals(root.inputs()) && oneKernelWritesBoth(x, q.transpose() ? q : other, q.transpose() ? other : q));
        }

        /** 1×g groups from the current amax, of the tensor as stored or of a gradient recomputed (GradientsQuantizedFromInputs). */
        private static boolean bothLayoutsCandidate(Operator.Quantize q) {
            return q.granularity() instanceof Granularity.Group && q.scaling() instanceof Scaling.Current
                    && (q.source() == QuantizedSource.STORED || q.source().sibling().isPresent());
        }

        /**
         * A recomputed gradient's quantizations (this group's {@code members}) with those of its sibling, the other
         * output of the same backward operator, in the same layouts: one kernel whose neighbouring blocks write the two
         * gradients of the same tile, from one read of their common inputs.
         */
        private boolean siblingsOf(Node root, List<Node> members) {
            Operator.Quantize q = (Operator.Quantize) root.op();
            if (q.source().sibling().isEmpty() || !q.transpose() && members.size() == 1) {
                return false;
            }
            QuantizedSource sibling = q.source().sibling().get();
            List<Node> found = new ArrayList<>();
            for (Node own : List.copyOf(members)) {
                Operator.Quantize o = (Operator.Quantize) own.op();
                firstFree(root.inputs().getFirst(), n -> n.op() instanceof Operator.Quantize s && s.source() == sibling
                        && n.phase() == root.phase() && n.inputs().equals(root.inputs()) && !found.contains(n)
                        && s.recomputing(o.source()).equals(o)).ifPresent(found::add);
            }
            if (found.size() != members.size()) {
                return false;
            }
            members.addAll(found);
            return true;
        }

        /**
         * The free bias gradient of a stored tensor quantized in both layouts (a linear layer's output gradient dY):
         * the staged kernel sums each tile's columns as it holds them, so dY is not read again for the bias.
         */
        private boolean biasGradientOf(Node root, Operator.Quantize q, List<Node> members) {
            Value x = root.inputs().getFirst();
            QuantizeOperand transposed = new QuantizeOperand(x.type().dtype(), q.transpose() ? q.cols() : q.rows(),
                    q.transpose() ? q.rows() : q.cols(), true, q.format());
            if (x.type().shape().size() != 2 || !QuantizeGroups.sumsColumns(transposed, q.source(), false)) {
                return false;
            }
            Optional<Node> bias = firstFree(x, n -> n.op() instanceof Operator.BiasGradient b && n.phase() == root.phase()
                    && n.inputs().size() == 1 && b.tokens() == x.type().shape().get(0) && b.width() == x.type().shape().get(1));
            bias.ifPresent(members::add);
            return bias.isPresent();
        }

        private static boolean oneKernelWritesBoth(Value x, Operator.Quantize transposed, Operator.Quantize rows) {
            int group = ((Granularity.Group) transposed.granularity()).size();
            int rowGroup = ((Granularity.Group) rows.granularity()).size();
            QuantizeOperand operand = new QuantizeOperand(x.type().dtype(), transposed.cols(), transposed.rows(), true,
                    transposed.format());
            return group <= QuantizeGroups.maxGroup(true) && QuantizeGroups.alsoQuantizesRows(operand, rowGroup);
        }

        private boolean residualGradient(Node root, Value dx, List<Node> members) {
            Optional<Node> add = soleConsumer(dx, Operator.Add.class).filter(a -> othersReadyBefore(a, dx, root));
            add.ifPresent(members::add);
            return add.isPresent();
        }

        private Optional<Node> soleConsumer(Value v, Class<? extends Operator> kind) {
            List<Node> cs = consumers.getOrDefault(v, List.of());
            if (cs.size() != 1 || taken.contains(cs.getFirst()) || !kind.isInstance(cs.getFirst().op())) {
                return Optional.empty();
            }
            return Optional.of(cs.getFirst());
        }

        private Optional<Node> firstFree(Value v, java.util.function.Predicate<Node> test) {
            return consumers.getOrDefault(v, List.of()).stream().filter(n -> !taken.contains(n)).filter(test).findFirst();
        }

        /** Every input of {@code n} other than {@code via} is produced before {@code root} (or is never produced). */
        private boolean othersReadyBefore(Node n, Value via, Node root) {
            int at = index.get(root);
            return n.inputs().stream().filter(v -> !v.equals(via))
                    .allMatch(v -> producedAt.getOrDefault(v, -1) < at);
        }

        /** Every input of {@code n} is produced by {@code root} or before it. */
        private boolean readyAfter(Node n, Node root) {
            int at = index.get(root);
            return n.inputs().stream().allMatch(v -> producedAt.getOrDefault(v, -1) <= at);
        }

        private static String mnemonic(Node n) {
            return n.op().mnemonic();
        }
    }
}
