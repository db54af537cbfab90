package dev.octet.compiler.passes;

import dev.octet.compiler.UnsupportedShapeException;
import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.attention.AttentionBackwardDelta;
import dev.octet.compiler.cuda.attention.AttentionKernels;
import dev.octet.compiler.cuda.attention.AttentionShape;
import dev.octet.compiler.cuda.attention.DecodeAttention;
import dev.octet.compiler.cuda.attention.DecodeAttentionCombine;
import dev.octet.compiler.cuda.attention.DecodeAttentionSplit;
import dev.octet.compiler.cuda.attention.FlashAttentionBackward;
import dev.octet.compiler.cuda.attention.RopeKernel;
import dev.octet.compiler.cuda.embedding.EmbeddingBackward;
import dev.octet.compiler.cuda.embedding.EmbeddingIdTally;
import dev.octet.compiler.cuda.embedding.EmbeddingForward;
import dev.octet.compiler.cuda.gemm.GemmEpilogue;
import dev.octet.compiler.cuda.gemm.GemmKernel;
import dev.octet.compiler.cuda.gemm.GemmKernels;
import dev.octet.compiler.cuda.gemm.GemmOperand;
import dev.octet.compiler.cuda.gemm.GemmProblem;
import dev.octet.compiler.cuda.gemm.OperandLayout;
import dev.octet.compiler.cuda.loss.CrossEntropyFused;
import dev.octet.compiler.cuda.loss.TokenLossSum;
import dev.octet.compiler.cuda.norm.NormBackward;
import dev.octet.compiler.cuda.norm.NormForward;
import dev.octet.compiler.cuda.norm.NormKind;
import dev.octet.compiler.cuda.optim.AdamWHyperparameters;
import dev.octet.compiler.cuda.optim.AdamWScalarSlot;
import dev.octet.compiler.cuda.optim.AdamWStep;
import dev.octet.compiler.cuda.optim.GradNormPlan;
import dev.octet.compiler.cuda.optim.GradSquareSum;
import dev.octet.compiler.cuda.pointwise.ColumnPartialSums;
import dev.octet.compiler.cuda.pointwise.ColumnSumAccumulate;
import dev.octet.compiler.cuda.pointwise.GeluBackward;
import dev.octet.compiler.cuda.pointwise.GeluForward;
import dev.octet.compiler.cuda.pointwise.ResidualAdd;
import dev.octet.compiler.cuda.pointwise.SwiGluBackward;
import dev.octet.compiler.cuda.pointwise.SwiGluForward;
import dev.octet.compiler.cuda.quant.AmaxHistoryUpdate;
import dev.octet.compiler.cuda.quant.AmaxReduce;
import dev.octet.compiler.cuda.quant.ColumnAmax;
import dev.octet.compiler.cuda.quant.QuantizeColumns;
import dev.octet.compiler.cuda.quant.QuantizeDelayed;
import dev.octet.compiler.cuda.quant.QuantizeOperand;
import dev.octet.compiler.cuda.quant.QuantizeTensorwise;
import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.cuda.quant.QuantizeTiled;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.GraphWriter;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.TensorType;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Argument;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.Launch;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Granularity;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Kernel formation and specialisation: each fusion group becomes one or a few launches of kernel templates
 * whose shapes, group sizes, formats and tile sizes are compile-time constants (the GEMM's tiles come from
 * the written-down heuristic in cuda.gemm). Kernel parameters are bound by name to IR values; scratch
 * buffers a template needs (partial sums, softmax deltas, amax partials) become new transient values the
 * memory planner places like any other. A group the templates cannot serve is a compiler bug, reported by
 * its pattern.
 */
public final class KernelFormation {
    public static final String NAME = "kernels";

    private KernelFormation() {}

    public static KernelPlan run(FusedGraph fused) {
        return new Former(fused).run();
    }

    private static final class Former {
        private final FusedGraph fused;
        private final GraphWriter w;
        private final Set<Value> internal;
        private final List<Launch> launches = new ArrayList<>();
        private final Map<Value, Value> aliases = new HashMap<>();
        private final Map<Value, Value> recordedFlags = new HashMap<>();
        private final Map<KernelSpec, CudaKernel> emitted = new HashMap<>();
        private FusionGroup group;

        Former(FusedGraph fused) {
            this.fused = fused;
            this.w = GraphWriter.continuing(fused.graph());
            this.internal = fused.internalValues();
        }

        KernelPlan run() {
            for (FusionGroup g : fused.groups()) {
                group = g;
                try {
                    form(g);
                } catch (IllegalArgumentException e) {
                    // Template specs refuse shapes they are not written for; that is a limit of the CUDA
                    // backend for this model, not a bug, and the user should read it as such.
                    throw new UnsupportedShapeException("no CUDA kernel for " + g.pattern() + " (" + g.root().render()
                            + "): " + e.getMessage(), e);
                }
            }
            return new KernelPlan(fused, launches, aliases);
        }

        private void form(FusionGroup g) {
            Node root = g.root();
            switch (root.op()) {
                case Operator.EmbeddingLookup e -> launch(new EmbeddingForward(tokens(), e.vocab(), e.dim(), Optional.empty()),
                        Map.of("out", out(root, 0), "tokens", in(root, 0), "table", in(root, 1)));
                case Operator.PositionLookup p -> launch(new EmbeddingForward(tokens(), p.seq(), p.dim(), Optional.empty()),
                        Map.of("out", out(root, 0), "tokens", in(root, 0), "table", in(root, 1)));
                case Operator.Add add when g.nodes().size() > 1 -> normForward(g.nodes().get(1), Optional.of(root),
                        g.nodes().size() > 2 ? Optional.of(g.nodes().get(2)) : Optional.empty());
                case Operator.Add add -> {
                    int cols = root.outputs().getFirst().type().dim(-1);
                    launch(ResidualAdd.forward((int) (add.elements() / cols), cols),
                            Map.of("sum", out(root, 0), "a", in(root, 0), "b", in(root, 1)));
                }
                case Operator.RmsNorm n -> normForward(root, Optional.empty(), quantizeIn(g, 1));
                case Operator.LayerNorm n -> normForward(root, Optional.empty(), quantizeIn(g, 1));
                case Operator.MatMul mm -> gemm(g, mm);
                case Operator.Rope r -> launch(new RopeKernel(r.backward() ? RopeKernel.Direction.BACKWARD
                                : RopeKernel.Direction.FORWARD, tokens(), r.seq(), r.heads(), r.headDim(), r.theta(),
                                RopeKernel.Positions.IN_DOCUMENT, false, r.scaling()),
                        Map.of("x", in(root, 0), "positions", in(root, 1), "out", out(root, 0)));
                case Operator.Attention a -> launch(AttentionKernels.forward(shape(a.batch(), a.seq(), a.heads(), a.kvHeads(),
                                a.headDim(), a.documentMask())),
                        bindings("q", in(root, 0), "k", in(root, 1), "v", in(root, 2), "document_ids", in(root, 3),
                                "o", out(root, 0), "lse", out(root, 1)));
                case Operator.CachedAttention a -> cachedAttention(root, a);
                case Operator.AttentionBackward a -> attentionBackward(root, shape(a.batch(), a.seq(), a.heads(), a.kvHeads(),
                        a.headDim(), a.documentMask()));
                case Operator.SwiGlu s when g.nodes().size() > 2 -> activationBothLayouts(g);
                case Operator.Gelu ge when g.nodes().size() > 2 -> activationBothLayouts(g);
                case Operator.SwiGlu s -> {
                    Optional<Node> q = quantizeIn(g, 1);
                    Map<String, Value> b = bindings("gate", in(root, 0), "up", in(root, 1));
                    boolean keep = !internal.contains(root.outputs().getFirst());
                    if (keep) {
                        b.put("h", out(root, 0));
                    }
                    q.ifPresent(qn -> {
                        b.put("h_codes", qn.outputs().get(0));
                        b.put("h_scales", qn.outputs().get(1));
                    });
                    launch(new SwiGluForward(tokens(), s.width(), q.map(Former::groupQuantization), keep), b);
                }
                case Operator.Gelu ge -> {
                    Optional<Node> q = quantizeIn(g, 1);
                    Map<String, Value> b = bindings("x", in(root, 0));
                    boolean keep = !internal.contains(root.outputs().getFirst());
                    if (keep) {
                        b.put("y", out(root, 0));
                    }
                    q.ifPresent(qn -> {
                        b.put("y_codes", qn.outputs().get(0));
                        b.put("y_scales", qn.outputs().get(1));
                    });
                    launch(new GeluForward(tokens(), ge.width(), q.map(Former::groupQuantization), keep), b);
                }
                case Operator.SwiGluBackward s -> launch(new SwiGluBackward(tokens(), s.width()),
                        Map.of("gate", in(root, 0), "up", in(root, 1), "dh", in(root, 2), "dgate", out(root, 0),
                                "dup", out(root, 1)));
                case Operator.GeluBackward ge -> launch(new GeluBackward(tokens(), ge.width()),
                        Map.of("x", in(root, 0), "dy", in(root, 1), "dx", out(root, 0)));
                case Operator.CrossEntropy ce -> crossEntropy(g, ce);
                case Operator.LmHeadCrossEntropy h -> lmHeadCrossEntropy(root, h);
                case Operator.RmsNormBackward b -> normBackward(g, NormKind.RMS, b.dim());
                case Operator.LayerNormBackward b -> normBackward(g, NormKind.LAYER, b.dim());
                case Operator.EmbeddingBackward e -> embeddingBackward(new EmbeddingBackward(tokens(), e.vocab(), e.dim()), root);
                case Operator.PositionBackward p -> embeddingBackward(new EmbeddingBackward(tokens(), p.seq(), p.dim()), root);
                case Operator.BiasGradient b -> columnSumsInto(out(root, 0), in(root, 0), b.tokens(), b.width(), b.width(),
                        columnPartials(b.tokens(), b.width(), b.width()));
                case Operator.Quantize q when g.nodes().size() > 1 -> quantizeBothLayouts(g);
                case Operator.Quantize q -> quantize(root, q);
                case Operator.GradientNorm n -> gradientNorm(root, n);
                case Operator.AdamWUpdate a -> adamw(root, a);
                case Operator.LossSum s -> launch(new TokenLossSum(s.tokens()), Map.of("losses", in(root, 0), "loss", out(root, 0)));
                case Operator.CrossEntropyBackward b -> throw unsupported(g);
            }
        }

        // ---- templates with options ------------------------------------------------------------------

        private void normForward(Node norm, Optional<Node> residualAdd, Optional<Node> quantize) {
            NormKind kind = norm.op() instanceof Operator.LayerNorm ? NormKind.LAYER : NormKind.RMS;
            int dim = kind == NormKind.LAYER ? ((Operator.LayerNorm) norm.op()).dim() : ((Operator.RmsNorm) norm.op()).dim();
            double eps = kind == NormKind.LAYER ? ((Operator.LayerNorm) norm.op()).eps() : ((Operator.RmsNorm) norm.op()).eps();
            Value y = norm.outputs().getFirst();
            boolean keepY = !internal.contains(y);
            Map<String, Value> b = new LinkedHashMap<>();
            if (keepY) {
                b.put("y", y);
            }
            quantize.ifPresent(q -> {
                b.put("y_codes", q.outputs().get(0));
                b.put("y_scales", q.outputs().get(1));
            });
            residualAdd.ifPresentOrElse(add -> {
                b.put("residual_out", add.outputs().getFirst());
                b.put("residual", add.inputs().get(0));
                b.put("branch", add.inputs().get(1));
            }, () -> b.put("x", norm.inputs().getFirst()));
            if (kind == NormKind.LAYER) {
                b.put("mean", norm.outputs().get(1));
                b.put("rstd", norm.outputs().get(2));
                b.put("bias", norm.inputs().get(2));
            } else {
                b.put("rstd", norm.outputs().get(1));
            }
            b.put("weight", norm.inputs().get(1));
            launch(new NormForward(kind, tokens(), dim, (float) eps, residualAdd.isPresent(),
                    quantize.map(Former::groupQuantization), keepY), b);
        }

        private void normBackward(FusionGroup g, NormKind kind, int dim) {
            Node root = g.root();
            Optional<Node> add = g.nodes().size() > 1 ? Optional.of(g.nodes().get(1)) : Optional.empty();
            NormBackward spec = new NormBackward(kind, tokens(), dim, add.isPresent());
            Value weightPartials = scratch("weight_grad_partials", DType.F32, spec.partialRows(), dim);
            Map<String, Value> b = new LinkedHashMap<>();
            b.put("dx", add.map(a -> a.outputs().getFirst()).orElse(root.outputs().getFirst()));
            b.put("weight_grad_partials", weightPartials);
            b.put("x", root.inputs().get(0));
            b.put("weight", root.inputs().get(1));
            Value biasPartials = null;
            if (kind == NormKind.LAYER) {
                biasPartials = scratch("bias_grad_partials", DType.F32, spec.partialRows(), dim);
                b.put("bias_grad_partials", biasPartials);
                b.put("mean", root.inputs().get(2));
                b.put("rstd", root.inputs().get(3));
                b.put("dy", root.inputs().get(4));
            } else {
                b.put("rstd", root.inputs().get(2));
                b.put("dy", root.inputs().get(3));
            }
            add.ifPresent(a -> b.put("residual_grad", otherInput(a, root.outputs().getFirst())));
            launch(spec, b);
            launch(spec.gradientReduction(), Map.of("sums", root.outputs().get(1), "input", weightPartials));
            if (biasPartials != null) {
                launch(spec.gradientReduction(), Map.of("sums", root.outputs().get(2), "input", biasPartials));
            }
        }

        private void gemm(FusionGroup g, Operator.MatMul mm) {
            Node root = g.root();
            Optional<Node> residual = g.nodes().size() > 1 ? Optional.of(g.nodes().get(1)) : Optional.empty();
            GemmEpilogue epilogue = new GemmEpilogue(mm.accumulate() ? DType.F32 : DType.BF16, mm.accumulate(), mm.bias(),
                    residual.isPresent());
            Map<String, Value> b = new LinkedHashMap<>();
            int operands;
            GemmProblem problem;
            if (mm.fp8().isPresent()) {
                Operator.Fp8Operands q = mm.fp8().get();
                problem = GemmProblem.fp8(mm.m(), mm.n(), mm.k(), new GemmOperand.Fp8(q.a().format(), q.a().granularity(),
                        q.aTransposed()), new GemmOperand.Fp8(q.b().format(), q.b().granularity(), q.bTransposed()), epilogue);
                b.put("a", in(root, 0));
                b.put("a_scales", in(root, 1));
                b.put("b", in(root, 2));
                b.put("b_scales", in(root, 3));
                operands = 4;
            } else {
                problem = GemmProblem.bf16(mm.m(), mm.n(), mm.k(), layout(mm.transposeA()), layout(mm.transposeB()), epilogue);
                b.put("a", in(root, 0));
                b.put("b", in(root, 1));
                operands = 2;
            }
            if (mm.bias()) {
                b.put("bias", in(root, operands));
            }
            residual.ifPresentOrElse(add -> {
                b.put("residual", otherInput(add, root.outputs().getFirst()));
                b.put("c", add.outputs().getFirst());
            }, () -> b.put("c", root.outputs().getFirst()));
            launchGemm(GemmKernels.forProblem(problem), b, Map.of());
        }

        /**
         * A GEMM's launch; with split K the kernel writes each K range's sums into a slice of a scratch in C's
         * place, and a second launch adds them to C in order.
         */
        private void launchGemm(GemmKernel kernel, Map<String, Value> buffers, Map<String, Argument> slices) {
            if (kernel.splits() == 1) {
                launch(kernel, buffers, slices);
                return;
            }
            Map<String, Value> b = new LinkedHashMap<>(buffers);
            Map<String, Argument> s = new LinkedHashMap<>(slices);
            Argument c = s.containsKey("c") ? s.remove("c") : new Argument.Buffer(b.remove("c"));
            GemmProblem p = kernel.problem();
            Value partials = scratch("partials" + launches.size(), DType.F32, kernel.splits(), p.m(), p.n());
            b.put("partials", partials);
            launch(kernel, b, s);
            launch(kernel.splitReduction(), Map.of("partials", partials), Map.of("c", c));
        }

        private void attentionBackward(Node root, AttentionShape shape) {
            AttentionBackwardDelta delta = new AttentionBackwardDelta(shape);
            Value d = scratch("delta", DType.F32, shape.batch(), shape.heads(), shape.seq());
            launch(delta, Map.of("o", in(root, 3), "dout", in(root, 5), "delta", d));
            Map<String, Value> common = bindings("q", in(root, 0), "k", in(root, 1), "v", in(root, 2), "dout", in(root, 5),
                    "lse", in(root, 4), "delta", d, "document_ids", in(root, 6));
            Map<String, Value> kv = new LinkedHashMap<>(common);
            kv.put("dk", out(root, 1));
            kv.put("dv", out(root, 2));
            FlashAttentionBackward kernels = AttentionKernels.backward(shape, true);
            launch(kernels.keyValue(), kv);
            Map<String, Value> q = new LinkedHashMap<>(common);
            q.put("dq", out(root, 0));
            launch(kernels.query(), q);
        }

        private void crossEntropy(FusionGroup g, Operator.CrossEntropy ce) {
            Node root = g.root();
            Node backward = g.nodes().stream().filter(n -> n.op() instanceof Operator.CrossEntropyBackward).findFirst()
                    .orElseThrow(() -> unsupported(g));
            Node sum = g.nodes().stream().filter(n -> n.op() instanceof Operator.LossSum).findFirst()
                    .orElseThrow(() -> unsupported(g));
            Value logits = in(root, 0);
            if (logits.type().elements() > Integer.MAX_VALUE) {
                // Here the logits of the whole micro-batch exist: an FP8 head, or chunking turned off.
                throw new IllegalArgumentException("logits of " + tokens() + "x" + ce.vocab() + " exceed 2^31 elements;"
                        + " the LM head's loss runs over chunks of tokens when the head is BF16 (bf16 = [lm_head]) and the"
                        + " loss workspace is above 0");
            }
            aliases.put(backward.outputs().getFirst(), logits);
            launch(new CrossEntropyFused(tokens(), ce.vocab()), Map.of("logits", logits, "targets", in(root, 1),
                    "loss_weight", in(root, 2), "losses", out(root, 0)));
            launch(new TokenLossSum(tokens()), Map.of("losses", out(root, 0), "loss", sum.outputs().getFirst()));
        }

        /**
         * Per chunk of tokens, into one workspace that holds a chunk's logits: the head's fprop GEMM, the fused
         * cross-entropy (dlogits over the logits), the dgrad GEMM writing the chunk's rows of dx, and the wgrad
         * GEMM (+ bias column sums) adding the chunk's share into the FP32 gradient. The chunk's rows of x,
         * targets, losses and dx are slices of the whole buffers. The workspace is a scratch value like any
         * other, so the memory planner sizes and places it.
         */
        private void lmHeadCrossEntropy(Node root, Operator.LmHeadCrossEntropy h) {
            Value x = in(root, 0);
            Value weight = in(root, 1);
            int next = h.bias() ? 3 : 2;
            Value targets = in(root, next);
            Value lossWeight = in(root, next + 1);
            Value losses = out(root, 0);
            Value dx = out(root, 1);
            Value weightGrad = out(root, 2);
            // The chunk's logits, rows padded to 16 bytes where that lets TMA read them (Operator's logitsPitch).
            int pitch = h.logitsPitch();
            Value logits = scratch("logits", DType.BF16, h.chunk(), pitch);
            Value biasPartials = h.bias() ? columnPartials(h.chunk(), h.vocab(), pitch) : null;
            for (int c = 0; c < h.chunks(); c++) {
                int rows = h.rows(c);
                long first = (long) c * h.chunk();
                Argument.Buffer xRows = new Argument.Buffer(x, first * h.dim());
                GemmEpilogue fpropEpilogue = h.bias() ? GemmEpilogue.store(DType.BF16).withBias() : GemmEpilogue.store(DType.BF16);
                Map<String, Value> fprop = bindings("b", weight, "c", logits);
                if (h.bias()) {
                    fprop.put("bias", in(root, 2));
                }
                launchGemm(GemmKernels.forProblem(GemmProblem.bf16(rows, h.vocab(), h.dim(), OperandLayout.K_MAJOR,
                        OperandLayout.K_MAJOR, fpropEpilogue).withPitches(new GemmProblem.Pitches(h.dim(), h.dim(), pitch))),
                        fprop, Map.of("a", xRows));
                launch(new CrossEntropyFused(rows, h.vocab(), pitch), bindings("logits", logits, "loss_weight", lossWeight),
                        Map.of("targets", new Argument.Buffer(targets, first), "losses", new Argument.Buffer(losses, first)));
                // dX[rows, D] = dlogits·W: canonical B is Wᵀ, read as W itself (MN-major).
                launchGemm(GemmKernels.forProblem(GemmProblem.bf16(rows, h.dim(), h.vocab(), OperandLayout.K_MAJOR,
                        OperandLayout.MN_MAJOR, GemmEpilogue.store(DType.BF16)).withPitches(new GemmProblem.Pitches(pitch, h.dim(), h.dim()))),
                        bindings("a", logits, "b", weight), Map.of("c", new Argument.Buffer(dx, first * h.dim())));
                // dW[V, D] += dlogitsᵀ·X over the chunk's tokens: both operands read as they lie (MN-major).
                launchGemm(GemmKernels.forProblem(GemmProblem.bf16(h.vocab(), h.dim(), rows, OperandLayout.MN_MAJOR,
                        OperandLayout.MN_MAJOR, GemmEpilogue.accumulateF32()).withPitches(new GemmProblem.Pitches(pitch, h.dim(), h.dim()))),
                        bindings("a", logits, "c", weightGrad), Map.of("b", xRows));
                if (h.bias()) {
                    columnSumsInto(out(root, 3), logits, rows, h.vocab(), pitch, biasPartials);
                }
            }
        }

        /**
         * {@code sums[c] += Σ_r input[r, c]} (a bias gradient), BF16 rows {@code pitch} apart: one launch, or, for
         * inputs with few column strips, partial sums over row ranges into {@code partials} and then their ordered
         * sum (ColumnPartialSums), deterministic either way.
         */
        private void columnSumsInto(Value sums, Value input, int rows, int cols, int pitch, Value partials) {
            int splits = ColumnPartialSums.splitsFor(DType.BF16, rows, cols, pitch);
            if (splits == 1) {
                launch(new ColumnSumAccumulate(DType.BF16, rows, cols, pitch), Map.of("sums", sums, "input", input));
                return;
            }
            launch(new ColumnPartialSums(DType.BF16, rows, cols, pitch, splits), Map.of("partials", partials, "input", input));
            launch(new ColumnSumAccumulate(DType.F32, splits, cols), Map.of("sums", sums, "input", partials));
        }

        /** The scratch {@link #columnSumsInto} needs for up to {@code rows} rows, or null when it needs none. */
        private Value columnPartials(int rows, int cols, int pitch) {
            int splits = ColumnPartialSums.splitsFor(DType.BF16, rows, cols, pitch);
            return splits == 1 ? null : scratch("column_partials", DType.F32, splits, cols);
        }

        /**
         * One read of a tensor for its transposed groups and its row groups (Fusion's quantize+quantize_transpose), of
         * a recomputed gradient's, or of two sibling gradients' (Fusion's ...+sibling).
         */
        private void quantizeBothLayouts(FusionGroup g) {
            if (g.pattern().endsWith("+sibling")) {
                quantizeSiblings(g);
                return;
            }
            Node transposed = g.nodes().stream().filter(n -> n.op() instanceof Operator.Quantize t && t.transpose())
                    .findFirst().orElseThrow(() -> unsupported(g));
            Node rows = g.nodes().stream().filter(n -> n != transposed && n.op() instanceof Operator.Quantize).findFirst()
                    .orElseThrow(() -> unsupported(g));
            Optional<Node> bias = g.nodes().stream().filter(n -> n.op() instanceof Operator.BiasGradient).findFirst();
            Operator.Quantize q = (Operator.Quantize) transposed.op();
            if (q.source() != QuantizedSource.STORED) {
                quantizeFromInputs(transposed, Optional.of(rows));
                return;
            }
            Granularity.Group group = (Granularity.Group) q.granularity();
            QuantizeOperand operand = operand(in(transposed, 0), q);
            Map<String, Value> b = bindings("x", in(transposed, 0), "codes", out(transposed, 0), "scales", out(transposed, 1),
                    "row_codes", out(rows, 0), "row_scales", out(rows, 1));
            if (bias.isEmpty()) {
                launch(new QuantizeGroups(operand, group.size(), q.scaleType(), Optional.of(groupQuantization(rows))), b);
                return;
            }
            // Fusion's ...+bias_gradient: each tile's column sums, then their ordered sum added into the gradient.
            int tiles = Math.ceilDiv(operand.rows(), group.size());
            Value partials = scratch("column_partials", DType.F32, tiles, operand.cols());
            b.put("column_partials", partials);
            launch(new QuantizeGroups(operand, group.size(), q.scaleType(), Optional.of(groupQuantization(rows)),
                    QuantizedSource.STORED, false, true), b);
            launch(new ColumnSumAccumulate(DType.F32, tiles, operand.cols()),
                    Map.of("sums", out(bias.get(), 0), "input", partials));
        }

        /**
         * Two gradients of one backward operator, each in its transposed groups and (both or neither) its row groups,
         * recomputed from the operator's inputs by one staged kernel each of whose blocks writes both
         * ({@code QuantizeGroups} with siblings): the first is the one whose source comes first.
         */
        private void quantizeSiblings(FusionGroup g) {
            List<Node> transposed = g.nodes().stream().filter(n -> ((Operator.Quantize) n.op()).transpose())
                    .sorted(Comparator.comparing(n -> ((Operator.Quantize) n.op()).source())).toList();
            if (transposed.size() != 2) {
                throw unsupported(g);
            }
            Map<String, Value> b = new LinkedHashMap<>();
            Optional<GroupQuantization> rowGroups = Optional.empty();
            for (int s = 0; s < 2; s++) {
                Node t = transposed.get(s);
                QuantizedSource source = ((Operator.Quantize) t.op()).source();
                String prefix = s == 0 ? "first_" : "second_";
                b.put(prefix + "codes", out(t, 0));
                b.put(prefix + "scales", out(t, 1));
                Optional<Node> rows = g.nodes().stream().filter(n -> !((Operator.Quantize) n.op()).transpose()
                        && ((Operator.Quantize) n.op()).source() == source).findFirst();
                rows.ifPresent(r -> {
                    b.put(prefix + "row_codes", out(r, 0));
                    b.put(prefix + "row_scales", out(r, 1));
                });
                rowGroups = rows.map(Former::groupQuantization);
            }
            Node first = transposed.getFirst();
            Operator.Quantize q = (Operator.Quantize) first.op();
            List<String> names = q.source().inputs();
            for (int i = 0; i < names.size(); i++) {
                b.put(names.get(i), in(first, i));
            }
            Granularity.Group group = (Granularity.Group) q.granularity();
            launch(new QuantizeGroups(operand(in(first, 0), q), group.size(), q.scaleType(), rowGroups, q.source(), true), b);
        }

        /**
         * An activation never stored: one staged kernel computes it from its inputs and writes its fprop operand's row
         * groups and its wgrad operand's transposed groups (Fusion's swiglu+quantize+quantize_transpose).
         */
        private void activationBothLayouts(FusionGroup g) {
            quantizeFromInputs(g.nodes().get(2), Optional.of(g.nodes().get(1)));
        }

        /**
         * A transposed quantization that recomputes its input from the producer's inputs (QuantizeFromInputs), and
         * writes the input's own row groups too when {@code rows} is that quantization.
         */
        private void quantizeFromInputs(Node transposed, Optional<Node> rows) {
            Operator.Quantize q = (Operator.Quantize) transposed.op();
            if (!(q.granularity() instanceof Granularity.Group group) || !(q.scaling() instanceof Scaling.Current)) {
                throw new IllegalArgumentException("a recomputed input is quantized in 1xg groups with current scaling, not "
                        + q.attributes());
            }
            Map<String, Value> b = new LinkedHashMap<>();
            List<String> names = q.source().inputs();
            for (int i = 0; i < names.size(); i++) {
                b.put(names.get(i), in(transposed, i));
            }
            b.put("codes", out(transposed, 0));
            b.put("scales", out(transposed, 1));
            rows.ifPresent(r -> {
                b.put("row_codes", out(r, 0));
                b.put("row_scales", out(r, 1));
            });
            launch(new QuantizeGroups(operand(in(transposed, 0), q), group.size(), q.scaleType(),
                    rows.map(Former::groupQuantization), q.source()), b);
        }

        /** The IR names the output matrix; the template is given the input's shape, the transpose when transposing. */
        private static QuantizeOperand operand(Value x, Operator.Quantize q) {
            return operand(x.type().dtype(), q);
        }

        private static QuantizeOperand operand(DType input, Operator.Quantize q) {
            return q.transpose()
                    ? new QuantizeOperand(input, q.cols(), q.rows(), true, q.format())
                    : new QuantizeOperand(input, q.rows(), q.cols(), false, q.format());
        }

        private void quantize(Node root, Operator.Quantize q) {
            if (q.source() == QuantizedSource.MASTER) {
                // The weight's working copy, rounded from its master as the kernel stages it (WeightsFromMasters).
                QuantizeOperand operand = operand(DType.BF16, q);
                launch(new QuantizeTiled(operand, q.granularity(), q.scaleType(), QuantizedSource.MASTER),
                        Map.of("master", in(root, 0), "codes", out(root, 0), "scales", out(root, 1)));
                return;
            }
            if (q.source() != QuantizedSource.STORED) {
                quantizeFromInputs(root, Optional.empty());
                return;
            }
            Value x = in(root, 0);
            Value codes = out(root, 0);
            Value scales = out(root, 1);
            QuantizeOperand operand = operand(x, q);
            switch (q.scaling()) {
                case Scaling.Current c when q.granularity() instanceof Granularity.Tensor -> {
                    QuantizeTensorwise spec = new QuantizeTensorwise(operand, q.scaleType());
                    AmaxReduce amax = spec.amaxReduce();
                    Value partials = scratch("amax_partials", DType.F32, amax.partialCount());
                    launch(amax, Map.of("x", x, "amax_partials", partials));
                    launch(spec, Map.of("x", x, "amax_partials", partials, "codes", codes, "scales", scales));
                }
                case Scaling.Current c when q.granularity() instanceof Granularity.Group g
                        && g.size() <= QuantizeGroups.maxGroup(q.transpose()) ->
                        launch(new QuantizeGroups(operand, g.size(), q.scaleType()),
                                Map.of("x", x, "codes", codes, "scales", scales));
                case Scaling.Current c when q.transpose()
                        && (q.granularity() instanceof Granularity.Channel || q.granularity() instanceof Granularity.Token) -> {
                    QuantizeColumns spec = new QuantizeColumns(operand, q.scaleType());
                    ColumnAmax amax = spec.columnAmax();
                    Value partials = scratch("column_amax_partials", DType.F32, amax.partialCount());
                    launch(amax, Map.of("x", x, "amax_partials", partials));
                    launch(spec, Map.of("x", x, "amax_partials", partials, "codes", codes, "scales", scales));
                }
                case Scaling.Current c -> launch(new QuantizeTiled(operand, q.granularity(), q.scaleType()),
                        Map.of("x", x, "codes", codes, "scales", scales));
                case Scaling.Delayed d -> {
                    Value history = in(root, 1);
                    Value recorded = recordedFlags.computeIfAbsent(history, h ->
                            w.value(QuantizeInsertion.recordedName(h.name()), TensorType.of(DType.I32, 1), Storage.OPTIMIZER_STATE));
                    QuantizeDelayed spec = new QuantizeDelayed(operand, d.history(), d.margin());
                    AmaxReduce first = spec.firstStepAmax();
                    Value firstPartials = scratch("first_amax_partials", DType.F32, first.partialCount());
                    launch(first, Map.of("x", x, "recorded", recorded, "amax_partials", firstPartials));
                    AmaxHistoryUpdate update = spec.historyUpdate();
                    Value stepPartials = scratch("step_amax_partials", DType.F32, update.partialCount());
                    launch(spec, Map.of("x", x, "amax_history", history, "recorded", recorded,
                            "first_step_amax_partials", firstPartials, "codes", codes, "scales", scales,
                            "step_amax_partials", stepPartials));
                    launch(update, Map.of("step_amax_partials", stepPartials,
                            "amax_history", history, "recorded", recorded));
                }
            }
        }

        /** AdamW in place; it writes the BF16 working copy too where the parameter keeps one (a fifth output). */
        private void adamw(Node root, Operator.AdamWUpdate a) {
            boolean workingCopy = root.outputs().size() == 5;
            Map<String, Value> b = new LinkedHashMap<>(Map.of("param", in(root, 0), "grad", in(root, 1), "m", in(root, 2),
                    "v", in(root, 3), "scalars", in(root, 4)));
            if (workingCopy) {
                b.put("param_bf16", out(root, 4));
            }
            launch(new AdamWStep((int) a.elements(), new AdamWHyperparameters(a.beta1(), a.beta2(), a.eps(), a.weightDecay()),
                    a.decays(), DType.F32, workingCopy), b);
        }

        /**
         * A decoding step's attention: one kernel while the caches' positions fit its shared memory, else split into
         * chunks of positions and combined (flash-decoding).
         */
        private void cachedAttention(Node root, Operator.CachedAttention a) {
            Map<String, Value> b = new LinkedHashMap<>(Map.of("q", in(root, 0), "k", in(root, 1), "v", in(root, 2),
                    "positions", in(root, 3), "k_cache", in(root, 4), "v_cache", in(root, 5)));
            if (a.maxSeq() <= DecodeAttention.MAX_POSITIONS) {
                b.put("o", out(root, 0));
                launch(new DecodeAttention(a.sequences(), a.maxSeq(), a.heads(), a.kvHeads(), a.headDim()), b);
                return;
            }
            DecodeAttentionSplit split = new DecodeAttentionSplit(a.sequences(), a.maxSeq(), a.heads(), a.kvHeads(), a.headDim());
            Value partials = scratch("attention_partials", DType.F32, split.partialFloats());
            b.put("partials", partials);
            launch(split, b);
            launch(new DecodeAttentionCombine(a.sequences(), a.maxSeq(), a.heads(), a.headDim(), split.splits()),
                    Map.of("partials", partials, "positions", in(root, 3), "o", out(root, 0)));
        }

        private void gradientNorm(Node root, Operator.GradientNorm n) {
            List<Value> grads = root.inputs().subList(0, n.tensors());
            List<Integer> sizes = grads.stream().map(v -> Math.toIntExact(v.type().elements())).toList();
            GradNormPlan plan = new GradNormPlan(sizes, n.maxNorm());
            Value partials = scratch("grad_norm_partials", DType.F32, plan.partialCount());
            for (int i = 0; i < sizes.size(); i++) {
                GradSquareSum sum = plan.squareSums().get(i);
                launch(sum, Map.of("grad", root.inputs().get(i)), Map.of("partials",
                        new Argument.Buffer(partials, plan.firstSlot(i))));
            }
            launch(plan.finalizer(), Map.of("partials", partials, "loss", in(root, n.tensors()), "grad_norm", out(root, 0)),
                    Map.of("clip_factor", new Argument.Buffer(out(root, 1), AdamWScalarSlot.CLIP_FACTOR.index()),
                            "skip", new Argument.Buffer(out(root, 1), AdamWScalarSlot.SKIP.index())));
        }

        // ---- helpers ---------------------------------------------------------------------------------

        private void launch(KernelSpec spec, Map<String, Value> buffers) {
            launch(spec, buffers, Map.of());
        }

        /** Binds every parameter of the kernel by name; a missing or unused binding is a compiler bug. */
        private void launch(KernelSpec spec, Map<String, Value> buffers, Map<String, Argument> slices) {
            CudaKernel kernel = emitted.computeIfAbsent(spec, KernelSpec::emit);
            List<Argument> args = new ArrayList<>();
            int used = 0;
            for (KernelParam p : kernel.params()) {
                if (slices.containsKey(p.name())) {
                    args.add(slices.get(p.name()));
                    used++;
                } else if (buffers.containsKey(p.name())) {
                    args.add(new Argument.Buffer(buffers.get(p.name())));
                    used++;
                } else {
                    throw new IllegalStateException("kernel " + kernel.name() + " for group " + group.id() + " ("
                            + group.pattern() + "): parameter " + p.name() + " is not bound");
                }
            }
            if (used != buffers.size() + slices.size()) {
                List<String> extra = new ArrayList<>(buffers.keySet());
                extra.addAll(slices.keySet());
                extra.removeIf(name -> kernel.params().stream().anyMatch(p -> p.name().equals(name)));
                throw new IllegalStateException("kernel " + kernel.name() + " has no parameters " + extra);
            }
            launches.add(new Launch(launches.size(), group.id(), group.phase(), spec, kernel, args));
        }

        /** The ids' first tokens and counts, then the table gradient. */
        private void embeddingBackward(EmbeddingBackward spec, Node root) {
            Value first = scratch("first_token", DType.I32, spec.vocab());
            Value count = scratch("id_count", DType.I32, spec.vocab());
            for (EmbeddingIdTally tally : spec.tally()) {
                launch(tally, Map.of("tokens", in(root, 0), "first_token", first, "id_count", count));
            }
            launch(spec, Map.of("grad", out(root, 0), "dy", in(root, 1), "tokens", in(root, 0), "first_token", first,
                    "id_count", count));
        }

        private Value scratch(String what, DType dtype, long... dims) {
            int[] shape = new int[dims.length];
            for (int i = 0; i < dims.length; i++) {
                shape[i] = Math.toIntExact(dims[i]);
            }
            return w.value("kernel" + group.id() + "." + what, TensorType.of(dtype, shape), Storage.TRANSIENT);
        }

        private Optional<Node> quantizeIn(FusionGroup g, int index) {
            return g.nodes().size() > index && g.nodes().get(index).op() instanceof Operator.Quantize
                    ? Optional.of(g.nodes().get(index)) : Optional.empty();
        }

        private static GroupQuantization groupQuantization(Node quantize) {
            Operator.Quantize q = (Operator.Quantize) quantize.op();
            if (!(q.granularity() instanceof Granularity.Group gr)) {
                throw new IllegalStateException("only 1×g group quantization fuses into a producer: " + quantize.render());
            }
            return new GroupQuantization(q.format(), q.scaleType(), gr.size());
        }

        private static Value otherInput(Node add, Value one) {
            return add.inputs().get(0).equals(one) ? add.inputs().get(1) : add.inputs().get(0);
        }

        private static OperandLayout layout(boolean transposed) {
            return transposed ? OperandLayout.MN_MAJOR : OperandLayout.K_MAJOR;
        }

        private static AttentionShape shape(int batch, int seq, int heads, int kvHeads, int headDim, boolean docs) {
            return new AttentionShape(batch, seq, heads, kvHeads, headDim, docs);
        }

        private int tokens() {
            return fused.graph().shape().tokens();
        }

        private static Value in(Node n, int i) {
            return n.inputs().get(i);
        }

        private static Value out(Node n, int i) {
            return n.outputs().get(i);
        }

        private static Map<String, Value> bindings(Object... pairs) {
            Map<String, Value> m = new LinkedHashMap<>();
            for (int i = 0; i < pairs.length; i += 2) {
                m.put((String) pairs[i], (Value) pairs[i + 1]);
            }
            return m;
        }

        private IllegalStateException unsupported(FusionGroup g) {
            return new IllegalStateException("no kernel template for fusion group " + g.id() + " (" + g.pattern() + ")");
        }
    }
}
