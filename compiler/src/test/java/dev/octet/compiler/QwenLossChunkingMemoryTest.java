package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.passes.LmHeadLossChunking;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.CompileSummary;
import dev.octet.compiler.plan.MemoryPlan;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Qwen2.5-1.5B (vocabulary 151,936) at its real training shape, compiled but not run: with the LM head's loss in
 * chunks, 2 × 8192 tokens compile and plan, and the plan is smaller than the one holding whole logits by about
 * the logits' size.
 */
class QwenLossChunkingMemoryTest {
    private static final int VOCAB = 151936;
    private static final long MIB = 1L << 20;

    @Test
    void twoSequencesOf8192TokensCompileAndTheLogitsLeaveThePlan() {
        StepPlan chunked = compile(2, 0);
        System.out.print(CompileSummary.of(chunked));
        assertEquals(List.of(), PlanVerifier.violations(chunked.kernels(), chunked.memory()));
        int tokens = 2 * 8192;
        Operator.LmHeadCrossEntropy head = chunked.kernels().fused().graph().nodes().stream()
                .map(n -> n.op()).filter(op -> op instanceof Operator.LmHeadCrossEntropy)
                .map(op -> (Operator.LmHeadCrossEntropy) op).findFirst().orElseThrow();
        assertEquals(5504, head.chunk());
        assertEquals(3, head.chunks());
        long workspace = 2L * head.chunk() * VOCAB;
        long logits = 2L * tokens * VOCAB;
        long largest = chunked.kernels().buffers().stream().mapToLong(v -> v.type().bytes()).max().orElseThrow();
        assertTrue(largest < logits / 2, "no buffer near the logits' size: largest " + largest);
        assertTrue(chunked.kernels().buffers().stream().anyMatch(v -> v.type().bytes() == workspace));

        // Whole logits at this shape exceed the cross-entropy kernel's 2^31 elements: refused, in one line.
        UnsupportedShapeException refused = assertThrows(UnsupportedShapeException.class,
                () -> compile(2, -1));
        assertTrue(refused.getMessage().contains("exceed 2^31 elements"), refused.getMessage());

        // Activations grow with the tokens; the loss's memory does not beyond its workspace, which the budget bounds
        // whatever the tokens: doubling them adds no logits, only what one chunk of 5,504 tokens takes more than one
        // of 4,096 (two chunks at 1 x 8192).
        StepPlan half = compile(1, 0);
        long halfWorkspace = 2L * LmHeadLossChunking.chunkTokens(8192, VOCAB, LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES) * VOCAB;
        assertTrue(workspace <= LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES && halfWorkspace <= workspace);
        long growth = chunked.memory().arenaBytes() - half.memory().arenaBytes();
        long activations = half.memory().arenaBytes() - half.memory().persistentBytes() - halfWorkspace;
        System.out.printf(Locale.ROOT, "qwen 2x8192 chunked: arena %s; 1x8192 chunked: arena %s; growth %s against"
                + " transients of 1x8192 less the workspace %s%n", CompileSummary.mib(chunked.memory().arenaBytes()),
                CompileSummary.mib(half.memory().arenaBytes()), CompileSummary.mib(growth), CompileSummary.mib(activations));
        assertTrue(growth < activations + (workspace - halfWorkspace) + 256 * MIB, "growth " + growth + " vs " + activations);
    }

    /**
     * At 1 × 8192 tokens both plans exist: the one with the whole micro-batch's logits (2,374 MiB, live from the
     * forward's end to the backward's start) and the chunked one, whose workspace is one chunk's logits.
     */
    @Test
    void chunkingSavesTheLogitsLessOneChunk() {
        StepPlan whole = compile(1, -1);
        StepPlan chunked = compile(1, 0);
        long logits = 2L * 8192 * VOCAB;
        long workspace = 2L * LmHeadLossChunking.chunkTokens(8192, VOCAB, LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES) * VOCAB;
        MemoryPlan w = whole.memory();
        MemoryPlan c = chunked.memory();
        long saved = w.arenaBytes() - c.arenaBytes();
        System.out.printf(Locale.ROOT, "qwen 1x8192: arena whole logits %s, chunked %s: %s saved (logits %s, one chunk %s)%n",
                CompileSummary.mib(w.arenaBytes()), CompileSummary.mib(c.arenaBytes()), CompileSummary.mib(saved),
                CompileSummary.mib(logits), CompileSummary.mib(workspace));
        assertEquals(w.persistentBytes(), c.persistentBytes());
        // Placement and the head's dx (now live from the forward) move it by a few tens of MiB at most.
        assertTrue(Math.abs(saved - (logits - workspace)) < 128 * MIB, "saved " + saved);
        long peakSaved = Math.max(w.peakBytes().get(Phase.FORWARD), w.peakBytes().get(Phase.BACKWARD))
                - Math.max(c.peakBytes().get(Phase.FORWARD), c.peakBytes().get(Phase.BACKWARD));
        assertTrue(Math.abs(peakSaved - (logits - workspace)) < 128 * MIB, "peak saved " + peakSaved);
    }

    /** {@code workspace} 0: the default; below 0: none (whole logits). */
    private static StepPlan compile(int batch, long workspace) {
        Program p = ExamplePrograms.loadWithRecipe("qwen2.5-1.5b.octet", "infir2");
        ModelSpec model = p.model("qwen2_5_1_5b").orElseThrow();
        RecipeSpec recipe = ExamplePrograms.recipe(p, "infir2");
        CompileTarget t = CompileTarget.of(model, recipe, Optional.empty(), batch, 8192);
        return Lowering.compile(workspace < 0 ? t.withLossWorkspace(0) : t, Lowering.QUIET);
    }
}
