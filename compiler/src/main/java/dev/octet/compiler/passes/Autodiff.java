package dev.octet.compiler.passes;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.GraphWriter;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.TensorType;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Gemm;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reverse-mode differentiation of the forward graph: walks the forward nodes backwards and appends, for
 * each one whose outputs carry a gradient, the nodes of its backward rule. A value reached by two paths
 * (the residual stream) gets the sum of both gradients; parameter gradients are accumulated into the
 * FP32 gradient buffers (the wgrad GEMM and the norm/embedding/bias backward kernels add into them).
 * The loss gradient is implicit: cross-entropy's backward scales by the loss weight input.
 */
public final class Autodiff implements GraphPass {
    @Override
    public String name() {
        return "autodiff";
    }

    @Override
    public Graph run(Graph g) {
        return new Rules(g).run();
    }

    private static final class Rules {
        private final Graph g;
        private final GraphWriter w;
        private final Map<Value, Value> grads = new HashMap<>();
        private final Map<Value, Parameter> byShadow = new HashMap<>();
        private final Set<Value> seeded = new HashSet<>();

        Rules(Graph g) {
            this.g = g;
            this.w = GraphWriter.continuing(g);
            for (Parameter p : g.parameters()) {
                p.shadow().ifPresent(s -> byShadow.put(s, p));
            }
        }

        Graph run() {
            for (Node n : g.nodes()) {
                if (n.phase() != Phase.FORWARD) {
                    throw new IllegalArgumentException("autodiff expects a forward graph; found " + n.render());
                }
                w.keep(n);
            }
            List<Node> forward = g.nodes();
            for (int i = forward.size() - 1; i >= 0; i--) {
                backward(forward.get(i));
            }
            return g.withNodes(w.nodes());
        }

        private void backward(Node n) {
            List<Value> in = n.inputs();
            List<Value> out = n.outputs();
            switch (n.op()) {
                case Operator.LossSum s -> seeded.add(in.get(0));
                case Operator.CrossEntropy ce -> {
                    if (!seeded.contains(out.get(0))) {
                        return;
                    }
                    Value logits = in.get(0);
                    Value d = gradValue(logits);
                    w.add(new Operator.CrossEntropyBackward(ce.vocab()),
                            List.of(logits, in.get(1), out.get(1), in.get(2)), List.of(d), Phase.BACKWARD);
                    accumulate(logits, d);
                }
                case Operator.MatMul mm -> {
                    Value dy = grads.get(out.get(0));
                    if (dy == null) {
                        return;
                    }
                    if (mm.gemm() != Gemm.FPROP) {
                        throw new IllegalArgumentException("autodiff expects only fprop GEMMs: " + n.render());
                    }
                    Value x = in.get(0);
                    Value weight = in.get(1);
                    if (needsGradient(x)) {
                        // dX[T,in] = dY[T,out]·W[out,in]: canonical B is [in, out] = Wᵀ.
                        Value dx = gradValue(x);
                        w.add(new Operator.MatMul(mm.linear(), Gemm.DGRAD, mm.m(), mm.k(), mm.n(), false, true,
                                Optional.empty(), false, false, false), List.of(dy, weight), List.of(dx), Phase.BACKWARD);
                        accumulate(x, dx);
                    }
                    // dW[out,in] += dYᵀ·X: reduces over tokens, canonical A = dYᵀ, B = Xᵀ.
                    w.add(new Operator.MatMul(mm.linear(), Gemm.WGRAD, mm.n(), mm.k(), mm.m(), true, true,
                            Optional.empty(), false, false, true), List.of(dy, x), List.of(paramGrad(weight)),
                            Phase.BACKWARD);
                    if (mm.bias()) {
                        w.add(new Operator.BiasGradient(mm.m(), mm.n()), List.of(dy), List.of(paramGrad(in.get(2))),
                                Phase.BACKWARD);
                    }
                }
                case Operator.Rope r -> {
                    Value dy = grads.get(out.get(0));
                    if (dy == null) {
                        return;
                    }
                    Value dx = gradValue(in.get(0));
                    w.add(new Operator.Rope(r.seq(), r.heads(), r.headDim(), r.theta(), r.scaling(), true), List.of(dy, in.get(1)),
                            List.of(dx), Phase.BACKWARD);
                    accumulate(in.get(0), dx);
                }
                case Operator.Attention a -> {
                    Value dO = grads.get(out.get(0));
                    if (dO == null) {
                        return;
                    }
                    Value dq = gradValue(in.get(0));
                    Value dk = gradValue(in.get(1));
                    Value dv = gradValue(in.get(2));
                    w.add(new Operator.AttentionBackward(a.batch(), a.seq(), a.heads(), a.kvHeads(), a.headDim(),
                                    a.documentMask()),
                            List.of(in.get(0), in.get(1), in.get(2), out.get(0), out.get(1), dO, in.get(3)),
                            List.of(dq, dk, dv), Phase.BACKWARD);
                    accumulate(in.get(0), dq);
                    accumulate(in.get(1), dk);
                    accumulate(in.get(2), dv);
                }
                case Operator.SwiGlu s -> {
                    Value dh = grads.get(out.get(0));
                    if (dh == null) {
                        return;
                    }
                    Value dGate = gradValue(in.get(0));
                    Value dUp = gradValue(in.get(1));
                    w.add(new Operator.SwiGluBackward(s.width()), List.of(in.get(0), in.get(1), dh), List.of(dGate, dUp),
                            Phase.BACKWARD);
                    accumulate(in.get(0), dGate);
                    accumulate(in.get(1), dUp);
                }
                case Operator.Gelu ge -> {
                    Value dh = grads.get(out.get(0));
                    if (dh == null) {
                        return;
                    }
                    Value du = gradValue(in.get(0));
                    w.add(new Operator.GeluBackward(ge.width()), List.of(in.get(0), dh), List.of(du), Phase.BACKWARD);
                    accumulate(in.get(0), du);
                }
                case Operator.Add add -> {
                    Value dc = grads.get(out.get(0));
                    if (dc == null) {
                        return;
                    }
                    accumulate(in.get(0), dc);
                    accumulate(in.get(1), dc);
                }
                case Operator.RmsNorm norm -> {
                    Value dy = grads.get(out.get(0));
                    if (dy == null) {
                        return;
                    }
                    Value dx = gradValue(in.get(0));
                    w.add(new Operator.RmsNormBackward(norm.dim(), norm.eps()),
                            List.of(in.get(0), in.get(1), out.get(1), dy), List.of(dx, paramGrad(in.get(1))),
                            Phase.BACKWARD);
                    accumulate(in.get(0), dx);
                }
                case Operator.LayerNorm norm -> {
                    Value dy = grads.get(out.get(0));
                    if (dy == null) {
                        return;
                    }
                    Value dx = gradValue(in.get(0));
                    w.add(new Operator.LayerNormBackward(norm.dim(), norm.eps()),
                            List.of(in.get(0), in.get(1), out.get(1), out.get(2), dy),
                            List.of(dx, paramGrad(in.get(1)), paramGrad(in.get(2))), Phase.BACKWARD);
                    accumulate(in.get(0), dx);
                }
                case Operator.EmbeddingLookup e -> {
                    Value dy = grads.get(out.get(0));
                    if (dy != null) {
                        w.add(new Operator.EmbeddingBackward(e.vocab(), e.dim()), List.of(in.get(0), dy),
                                List.of(paramGrad(in.get(1))), Phase.BACKWARD);
                    }
                }
                case Operator.PositionLookup p -> {
                    Value dy = grads.get(out.get(0));
                    if (dy != null) {
                        w.add(new Operator.PositionBackward(p.seq(), p.dim()), List.of(in.get(0), dy),
                                List.of(paramGrad(in.get(1))), Phase.BACKWARD);
                    }
                }
                default -> throw new IllegalArgumentException("no backward rule for forward node " + n.render());
            }
        }

        private boolean needsGradient(Value v) {
            return v.storage() == Storage.TRANSIENT;
        }

        /** A fresh gradient value shaped like {@code v}; BF16 like the activations it flows against. */
        private Value gradValue(Value v) {
            return w.value("d." + v.name(), new TensorType(v.type().shape(), DType.BF16), Storage.TRANSIENT);
        }

        private Value paramGrad(Value shadow) {
            Parameter p = byShadow.get(shadow);
            if (p == null) {
                throw new IllegalArgumentException(shadow + " is not a parameter's working copy");
            }
            return p.gradient();
        }

        /** Records a gradient contribution; a second one for the same value is added to the first. */
        private void accumulate(Value v, Value contribution) {
            if (!needsGradient(v)) {
                return;
            }
            Value previous = grads.get(v);
            if (previous == null) {
                grads.put(v, contribution);
                return;
            }
            Value sum = w.value("d." + v.name(), previous.type(), Storage.TRANSIENT);
            w.add(new Operator.Add(v.type().elements()), List.of(previous, contribution), List.of(sum), Phase.BACKWARD);
            grads.put(v, sum);
        }
    }
}
