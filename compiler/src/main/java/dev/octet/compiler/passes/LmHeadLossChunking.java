package dev.octet.compiler.passes;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.GraphWriter;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replaces the LM head's three GEMMs, the cross-entropy and its backward by one
 * {@link Operator.LmHeadCrossEntropy} that runs over chunks of tokens: logits of a whole micro-batch
 * ([tokens, vocab], 4.6 GiB for Qwen2.5's 151,936 ids at 2 × 8192 tokens) never exist, only one chunk's in a
 * workspace of at most {@code workspaceBytes}. The head's backward then runs in forward, right after each
 * chunk's loss, while the chunk's dlogits are at hand; so the head's input is no longer read in backward either.
 *
 * <p>An LM head the recipe runs in FP8 is left as it is (separate GEMMs and one cross-entropy over the whole
 * logits): chunking it would need quantizations per chunk, and every recipe keeps the head in BF16. A workspace
 * of 0 bytes turns chunking off, which is how the memory it saves is measured.
 */
public final class LmHeadLossChunking implements GraphPass {
    public static final String NAME = "chunk_loss";

    /**
     * Workspace for one chunk's logits unless told otherwise: for Qwen2.5's vocabulary at most 7,040 tokens a chunk
     * (at 2 × 8192 tokens three chunks of 5,504, 5,504 and 5,376). The head's wgrad sums a chunk's tokens into the
     * FP32 gradient with a read-modify-write of the whole [vocab, dim] gradient, so each chunk costs about the same
     * on top of its FLOPs and many short chunks make the head slow: with 512 MiB (1,664 tokens) it ran at 261
     * TFLOP/s on the H200 and the Qwen2.5-1.5B step took 5% longer, for 1.4 GiB less memory (docs/benchmarks.md).
     */
    public static final long DEFAULT_WORKSPACE_BYTES = 2L << 30;

    /** Chunk sizes are multiples of this, so that every chunk's slice of x, targets and losses is 16-byte aligned. */
    static final int ROW_ALIGNMENT = 8;
    /** ... and of this once a chunk is large enough: whole 128-row GEMM tiles. */
    static final int TILE_ROWS = 128;

    private final RecipeSpec recipe;
    private final ParameterTable table;
    private final long workspaceBytes;

    public LmHeadLossChunking(RecipeSpec recipe, ParameterTable table, long workspaceBytes) {
        if (workspaceBytes < 0) {
            throw new IllegalArgumentException("a loss workspace of " + workspaceBytes + " bytes");
        }
        this.recipe = recipe;
        this.table = table;
        this.workspaceBytes = workspaceBytes;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Tokens per chunk: all of them when their logits fit the workspace; else as few chunks as the workspace allows,
     * of equal size rounded up to a multiple of 128 (of 8 below 128 rows), the last one shorter. A chunk's logits,
     * rows of {@code rowPitch} BF16 elements ({@link Operator.LmHeadCrossEntropy#logitsPitch}), fit the workspace
     * and stay below 2^31 elements (the cross-entropy kernel's 32-bit row offsets). Equal chunks rather than the
     * largest that fit: the same number of chunks, so the same cost (see {@link #DEFAULT_WORKSPACE_BYTES}), with a
     * smaller workspace and no short last chunk whose GEMMs run below their rate.
     *
     * @throws IllegalArgumentException when the workspace holds fewer than 8 rows of logits
     */
    public static int chunkTokens(int tokens, int rowPitch, long workspaceBytes) {
        long rows = Math.min(workspaceBytes / (2L * rowPitch), Integer.MAX_VALUE / rowPitch);
        if (rows >= tokens) {
            return tokens;
        }
        if (rows < ROW_ALIGNMENT) {
            throw new IllegalArgumentException("a loss workspace of " + workspaceBytes + " bytes holds fewer than "
                    + ROW_ALIGNMENT + " rows of " + rowPitch + " logits");
        }
        int align = rows >= TILE_ROWS ? TILE_ROWS : ROW_ALIGNMENT;
        int most = (int) (rows / align * align);
        int chunks = Math.ceilDiv(tokens, most);
        // At most `most` (a multiple of align at least tokens / chunks), so still `chunks` chunks.
        return Math.ceilDiv(Math.ceilDiv(tokens, chunks), align) * align;
    }

    @Override
    public Graph run(Graph g) {
        if (workspaceBytes == 0) {
            return g;
        }
        Map<Value, List<Node>> consumers = g.consumers();
        Map<Value, Node> producers = g.producers();
        Map<Node, Rewrite> rewrites = new HashMap<>();
        Set<Node> removed = new HashSet<>();
        for (Node ce : g.nodes()) {
            if (!(ce.op() instanceof Operator.CrossEntropy)) {
                continue;
            }
            Node head = producers.get(ce.inputs().getFirst());
            if (!(head != null && head.op() instanceof Operator.MatMul mm && mm.gemm() == Gemm.FPROP)) {
                throw new IllegalStateException("cross-entropy reads logits no LM head GEMM writes: " + ce.render());
            }
            if (!keepsBf16(mm)) {
                continue;
            }
            Rewrite r = rewrite(ce, head, mm, consumers);
            rewrites.put(ce, r);
            removed.addAll(r.removed());
        }
        if (rewrites.isEmpty()) {
            return g;
        }
        GraphWriter w = GraphWriter.continuing(g);
        for (Node n : g.nodes()) {
            Rewrite r = rewrites.get(n);
            if (r != null) {
                w.add(r.op(), r.inputs(), r.outputs(), Phase.FORWARD);
            } else if (!removed.contains(n)) {
                w.keep(n);
            }
        }
        return g.withNodes(w.nodes());
    }

    private boolean keepsBf16(Operator.MatMul mm) {
        ParameterTable.Linear l = table.linears().stream().filter(x -> x.name().equals(mm.linear())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("GEMM of unknown linear layer " + mm.linear()));
        return recipe.bf16().keepsBf16(l.projection(), l.layer(), table.layerCount());
    }

    /** The node that takes the loss's place, and the nodes it replaces (the loss among them). */
    private record Rewrite(Operator.LmHeadCrossEntropy op, List<Value> inputs, List<Value> outputs, List<Node> removed) {}

    /**
     * The head (fprop), the loss, the loss's backward and what reads dlogits (the head's dgrad, wgrad and bias
     * gradient) become one node at the loss's place. Anything else reading logits or dlogits is a compiler bug:
     * the language gives logits to cross_entropy only.
     */
    private Rewrite rewrite(Node ce, Node head, Operator.MatMul mm, Map<Value, List<Node>> consumers) {
        Value logits = head.outputs().getFirst();
        Node backward = only(consumers, logits, ce, Operator.CrossEntropyBackward.class);
        Value dlogits = backward.outputs().getFirst();
        Node dgrad = null;
        Node wgrad = null;
        Node biasGrad = null;
        for (Node n : consumers.getOrDefault(dlogits, List.of())) {
            switch (n.op()) {
                case Operator.MatMul m when m.linear().equals(mm.linear()) && m.gemm() == Gemm.DGRAD -> dgrad = n;
                case Operator.MatMul m when m.linear().equals(mm.linear()) && m.gemm() == Gemm.WGRAD -> wgrad = n;
                case Operator.BiasGradient b -> biasGrad = n;
                default -> throw new IllegalStateException("dlogits read by " + n.render());
            }
        }
        if (dgrad == null || wgrad == null || (biasGrad != null) != mm.bias()) {
            throw new IllegalStateException("the LM head's backward is not its dgrad, wgrad and bias gradient: "
                    + head.render());
        }
        Value lse = ce.outputs().get(1);
        if (!consumers.getOrDefault(lse, List.of()).equals(List.of(backward))) {
            throw new IllegalStateException(lse + " is read by more than the cross-entropy backward");
        }
        List<Value> in = new ArrayList<>(head.inputs().subList(0, mm.bias() ? 3 : 2));
        in.addAll(ce.inputs().subList(1, 3));
        List<Value> out = new ArrayList<>(List.of(ce.outputs().getFirst(), dgrad.outputs().getFirst(),
                wgrad.outputs().getFirst()));
        List<Node> removed = new ArrayList<>(List.of(head, ce, backward, dgrad, wgrad));
        if (biasGrad != null) {
            out.add(biasGrad.outputs().getFirst());
            removed.add(biasGrad);
        }
        int tokens = mm.m();
        Operator.LmHeadCrossEntropy op = new Operator.LmHeadCrossEntropy(mm.linear(), tokens, mm.n(), mm.k(),
                chunkTokens(tokens, Operator.LmHeadCrossEntropy.logitsPitch(mm.n(), mm.k()), workspaceBytes), mm.bias());
        return new Rewrite(op, in, out, removed);
    }

    /** The one node other than {@code known} that reads {@code v}, which must be a {@code kind}. */
    private static Node only(Map<Value, List<Node>> consumers, Value v, Node known, Class<? extends Operator> kind) {
        List<Node> others = consumers.getOrDefault(v, List.of()).stream().filter(n -> n != known).toList();
        if (others.size() != 1 || !kind.isInstance(others.getFirst().op())) {
            throw new IllegalStateException(v + " is read by " + others.stream().map(Node::render).toList()
                    + ", not only by its loss and the loss's backward");
        }
        return others.getFirst();
    }
}
