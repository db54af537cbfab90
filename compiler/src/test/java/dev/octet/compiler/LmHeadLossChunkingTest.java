package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.gemm.Bf16MmaGemm;
import dev.octet.compiler.cuda.gemm.GemmKernel;
import dev.octet.compiler.cuda.loss.CrossEntropyFused;
import dev.octet.compiler.cuda.loss.TokenLossSum;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.LmHeadLossChunking;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.Argument;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.Bf16Scope;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The LM head and its loss as one op over chunks of tokens: the chunk rule, the rewrite and its lowering. */
class LmHeadLossChunkingTest {
    private static final int TINY_TOKENS = 512;
    private static final int TINY_VOCAB = 4096;

    @Test
    void chunksAreAsFewAsTheWorkspaceAllowsAndEqualInWholeTilesOrEightRows() {
        assertEquals(512, LmHeadLossChunking.chunkTokens(512, 4096, 512L * 4096 * 2), "all fit: one chunk");
        // 120 rows fit: five chunks, of 103 rounded up to 8.
        assertEquals(104, LmHeadLossChunking.chunkTokens(512, 4096, 120L * 4096 * 2 + 100));
        assertEquals(128, LmHeadLossChunking.chunkTokens(512, 4096, 200L * 4096 * 2), "whole 128-row tiles");
        // Qwen2.5's vocabulary at 2 x 8192 tokens in the default 2 GiB: 7067 rows fit, so three chunks, of 5462
        // rounded up to 5504 (5504, 5504, 5376) rather than 7040, 7040 and 2304; in 512 MiB ten of 1664.
        assertEquals(5504, LmHeadLossChunking.chunkTokens(16384, 151936, LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES));
        assertEquals(1664, LmHeadLossChunking.chunkTokens(16384, 151936, 512L << 20));
        for (int tokens : new int[] {130, 257, 1000, 4095, 16384, 32768}) {
            for (long rows : new long[] {129, 1000, 7000}) {
                int chunk = LmHeadLossChunking.chunkTokens(tokens, 4096, rows * 4096 * 2);
                String what = tokens + " tokens, " + rows + " rows of logits: chunk " + chunk;
                assertTrue(chunk <= rows, what);
                assertTrue(chunk == tokens || chunk % 128 == 0, what);
                long fewest = rows >= tokens ? 1 : Math.ceilDiv(tokens, rows / 128 * 128);
                assertEquals(fewest, Math.ceilDiv(tokens, chunk), what + ": as few chunks as fit");
            }
        }
        // Whatever the workspace, a chunk's logits stay below 2^31 elements (the cross-entropy kernel's offsets).
        int capped = LmHeadLossChunking.chunkTokens(1 << 20, 151936, 1L << 40);
        assertTrue((long) capped * 151936 <= Integer.MAX_VALUE, "chunk " + capped);
        assertEquals(14080, capped);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmHeadLossChunking.chunkTokens(512, 151936, 1 << 20));
        assertTrue(e.getMessage().contains("fewer than 8 rows"), e.getMessage());
    }

    @Test
    void theHeadItsLossAndTheirBackwardBecomeOneForwardNode() {
        Graph g = tinyGraph("infir2", LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES);
        List<Node> heads = nodes(g, Operator.LmHeadCrossEntropy.class);
        assertEquals(1, heads.size());
        Node head = heads.getFirst();
        Operator.LmHeadCrossEntropy op = (Operator.LmHeadCrossEntropy) head.op();
        assertEquals(new Operator.LmHeadCrossEntropy("lm_head", TINY_TOKENS, TINY_VOCAB, 128, TINY_TOKENS, false), op);
        assertEquals(Phase.FORWARD, head.phase());
        // The tied head reads the token embedding's working copy and adds into its gradient.
        assertEquals("embedding.weight.bf16", head.inputs().get(1).name());
        assertEquals("grad.embedding.weight", head.outputs().get(2).name());
        assertTrue(head.accumulatesInto(head.outputs().get(2)));
        assertFalse(head.accumulatesInto(head.outputs().get(1)), "dx is written, not added to");
        assertTrue(nodes(g, Operator.CrossEntropy.class).isEmpty());
        assertTrue(nodes(g, Operator.CrossEntropyBackward.class).isEmpty());
        assertTrue(g.nodes().stream().noneMatch(n -> n.op() instanceof Operator.MatMul mm && mm.linear().equals("lm_head")));
        // Nothing reads the head's input in backward any more.
        Value x = head.inputs().getFirst();
        assertTrue(g.consumers().get(x).stream().allMatch(n -> n.phase() == Phase.FORWARD));
        // The head's dx still feeds the final norm's backward.
        assertTrue(g.consumers().get(head.outputs().get(1)).stream().anyMatch(n -> n.op() instanceof Operator.RmsNormBackward));
    }

    @Test
    void aWorkspaceOfZeroOrAnFp8HeadLeavesTheGraphAlone() {
        Graph off = tinyGraph("infir2", 0);
        assertTrue(nodes(off, Operator.LmHeadCrossEntropy.class).isEmpty());
        assertEquals(1, nodes(off, Operator.CrossEntropy.class).size());

        Program p = ExamplePrograms.loadWithRecipe("tiny.octet", "infir2");
        RecipeSpec r = ExamplePrograms.recipe(p, "infir2");
        Set<Projection> projections = new HashSet<>(r.bf16().projections());
        projections.remove(Projection.LM_HEAD);
        Set<String> kinds = new HashSet<>(r.bf16().opKinds());
        kinds.remove("lm_head");
        RecipeSpec fp8Head = new RecipeSpec(r.name(), r.pos(), r.forModel(), r.operands(),
                new Bf16Scope(false, kinds, projections, r.bf16().layers()), r.masterWeights(), r.optimizerStates(),
                r.recompute());
        TrainingSpec t = ExamplePrograms.training(p);
        Graph g = Lowering.trainingGraph(CompileTarget.of(p.model(t.model()).orElseThrow(), fp8Head, t), Lowering.QUIET);
        assertTrue(nodes(g, Operator.LmHeadCrossEntropy.class).isEmpty());
        assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof Operator.MatMul mm && mm.linear().equals("lm_head")
                && mm.fp8().isPresent()), "the recipe's FP8 head is kept");
    }

    /** 512 tokens in chunks of 120: four whole chunks and a ragged one of 32, each a slice of the whole buffers. */
    @Test
    void eachChunkRunsItsGemmsAndLossOnItsSliceOfOneWorkspace() {
        StepPlan plan = tinyPlan(120L * TINY_VOCAB * 2);
        assertEquals(List.of(), PlanVerifier.violations(plan.kernels(), plan.memory()));
        Node head = plan.kernels().fused().graph().nodes().stream()
                .filter(n -> n.op() instanceof Operator.LmHeadCrossEntropy).findFirst().orElseThrow();
        int group = plan.kernels().fused().groups().stream().filter(g -> g.root() == head).findFirst().orElseThrow().id();
        List<Launch> launches = plan.kernels().launches().stream().filter(l -> l.group() == group).toList();
        assertEquals(5 * 4, launches.size(), "fprop, cross-entropy, dgrad, wgrad per chunk");
        Value workspace = launches.getFirst().writes().getFirst();
        assertEquals(Storage.TRANSIENT, workspace.storage());
        // 120 rows fit: five chunks, of 512 / 5 rounded up to 8, the last the rest.
        int chunk = 104;
        assertEquals(List.of(chunk, TINY_VOCAB), workspace.type().shape());
        int[] rows = {chunk, chunk, chunk, chunk, 96};
        for (int c = 0; c < rows.length; c++) {
            Launch fprop = launches.get(4 * c);
            Launch loss = launches.get(4 * c + 1);
            Launch dgrad = launches.get(4 * c + 2);
            Launch wgrad = launches.get(4 * c + 3);
            assertEquals(rows[c], ((GemmKernel) fprop.spec()).problem().m());
            assertEquals(new CrossEntropyFused(rows[c], TINY_VOCAB), loss.spec());
            assertEquals(rows[c], ((GemmKernel) dgrad.spec()).problem().m());
            assertEquals(rows[c], ((GemmKernel) wgrad.spec()).problem().k());
            assertTrue(((GemmKernel) wgrad.spec()).problem().epilogue().accumulate(), "wgrad adds each chunk's share");
            long first = (long) chunk * c;
            assertEquals(first * 128, offset(fprop, "a"), "x rows of chunk " + c);
            assertEquals(first, offset(loss, "targets"));
            assertEquals(first, offset(loss, "losses"));
            assertEquals(first * 128, offset(dgrad, "c"), "dx rows of chunk " + c);
            assertEquals(first * 128, offset(wgrad, "b"));
            for (Launch l : List.of(fprop, loss, dgrad, wgrad)) {
                assertTrue(l.reads().contains(workspace) || l.writes().contains(workspace), l.kernel().name());
            }
        }
        // The loss sum runs once, over every token, after the last chunk.
        Launch next = plan.kernels().launches().get(launches.getLast().index() + 1);
        assertEquals(new TokenLossSum(TINY_TOKENS), next.spec());
        // The workspace is planned like any transient: one chunk's logits, not the micro-batch's.
        assertTrue(plan.kernels().buffers().stream().noneMatch(v -> v.type().elements() == (long) TINY_TOKENS * TINY_VOCAB));
    }

    /**
     * GPT-2's 50,257 ids: a chunk's logits lie in rows of 50,264 elements (whole 16 bytes), so that the head's
     * dgrad and wgrad read them by TMA; no GEMM of the step is left on the mma.sync template.
     */
    @Test
    void anOddVocabularysLogitsArePaddedSoThatNoGemmRunsOnMmaSync() {
        Program p = ExamplePrograms.loadWithRecipe("gpt2-124m-pretrain.octet", "infir2");
        TrainingSpec t = ExamplePrograms.training(p);
        StepPlan plan = Lowering.compile(CompileTarget.of(p.model(t.model()).orElseThrow(),
                ExamplePrograms.recipe(p, "infir2"), t), Lowering.QUIET);
        Operator.LmHeadCrossEntropy head = (Operator.LmHeadCrossEntropy) plan.kernels().fused().graph().nodes().stream()
                .map(Node::op).filter(op -> op instanceof Operator.LmHeadCrossEntropy).findFirst().orElseThrow();
        assertEquals(50264, head.logitsPitch());
        assertEquals(List.of(), plan.kernels().launches().stream().filter(l -> l.spec() instanceof Bf16MmaGemm)
                .map(l -> l.kernel().name()).distinct().toList());
        assertTrue(plan.kernels().launches().stream().anyMatch(l -> l.spec() instanceof CrossEntropyFused ce
                && ce.vocab() == 50257 && ce.pitch() == 50264));
    }

    private static long offset(Launch l, String param) {
        for (int i = 0; i < l.args().size(); i++) {
            if (l.kernel().params().get(i).name().equals(param)) {
                return ((Argument.Buffer) l.args().get(i)).elementOffset();
            }
        }
        throw new AssertionError(l.kernel().name() + " has no parameter " + param);
    }

    private static CompileTarget tinyTarget(String recipe, long workspace) {
        Program p = ExamplePrograms.loadWithRecipe("tiny.octet", recipe);
        TrainingSpec t = ExamplePrograms.training(p);
        return CompileTarget.of(p.model(t.model()).orElseThrow(), ExamplePrograms.recipe(p, recipe), t)
                .withLossWorkspace(workspace);
    }

    private static Graph tinyGraph(String recipe, long workspace) {
        return Lowering.trainingGraph(tinyTarget(recipe, workspace), Lowering.QUIET);
    }

    private static StepPlan tinyPlan(long workspace) {
        return Lowering.compile(tinyTarget("infir2", workspace), Lowering.QUIET);
    }

    private static List<Node> nodes(Graph g, Class<? extends Operator> kind) {
        return g.nodes().stream().filter(n -> kind.isInstance(n.op())).toList();
    }
}
