package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.CompileSummary;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.RecipeSpec;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Under FP8 recipes the recipe's {@code recompute = [norm, activation]} makes backward's transposed quantizations
 * read the activations' inputs (QuantizeFromInputs), at the example models' real shapes: the SwiGLU/GELU outputs
 * and the norm outputs that only FP8 GEMMs read are no longer kept for backward, nor recomputed into BF16 copies,
 * and the FP8 plan is that much smaller than the BF16 one. Without {@code recompute} the plan is unchanged.
 */
class QuantizeFromInputsTest {

    @Test
    void qwenKeepsNoSwiGluOrNormOutputForBackwardAndPlansLessThanBf16() {
        StepPlan fp8 = compile("qwen2.5-1.5b.octet", "qwen2_5_1_5b", "infir2", 2, 8192, true);
        StepPlan bf16 = compile("qwen2.5-1.5b.octet", "qwen2_5_1_5b", "bf16", 2, 8192, false);
        assertEquals(List.of(), PlanVerifier.violations(fp8.kernels(), fp8.memory()));
        Graph g = fp8.kernels().fused().graph();
        Map<Value, List<Node>> consumers = g.consumers();
        int recomputed = 0;
        for (Node n : g.nodes()) {
            if (n.op() instanceof Operator.SwiGlu || normInsideABlock(n)) {
                assertEquals(Phase.FORWARD, n.phase(), "a BF16 copy of " + n.render() + " in backward");
                Value out = n.outputs().getFirst();
                assertTrue(consumers.getOrDefault(out, List.of()).stream().allMatch(c -> c.phase() == Phase.FORWARD),
                        out + " is still read in backward");
                assertFalse(fp8.kernels().buffers().contains(out), out + " is still written");
            }
            if (n.op() instanceof Operator.Quantize q && fromAnActivation(q)) {
                assertEquals(Phase.BACKWARD, n.phase());
                assertTrue(q.transpose());
                recomputed++;
            }
        }
        // Per layer: the SwiGLU output (down's wgrad) and the two norm outputs (q/k/v's and gate/up's wgrads).
        assertEquals(3 * 28, recomputed);
        double ratio = (double) fp8.memory().arenaBytes() / bf16.memory().arenaBytes();
        System.out.printf(Locale.ROOT, "qwen 2x8192 arena: infir2 with recompute %s, bf16 %s (%.3f)%n",
                CompileSummary.mib(fp8.memory().arenaBytes()), CompileSummary.mib(bf16.memory().arenaBytes()), ratio);
        // 28 layers x (280 MiB SwiGLU output + 2 x 48 MiB norm outputs) no longer live across the step.
        assertTrue(ratio < 0.85, "infir2 / bf16 arena " + ratio);
    }

    @Test
    void gpt2KeepsNoGeluOrLayerNormOutputForBackward() {
        StepPlan fp8 = compile("gpt2-124m.octet", "gpt2_124m", "infir2", 32, 1024, true);
        long recomputed = fp8.kernels().fused().graph().nodes().stream()
                .filter(n -> n.op() instanceof Operator.Quantize q && fromAnActivation(q)).count();
        assertEquals(3 * 12, recomputed);
        StepPlan bf16 = compile("gpt2-124m.octet", "gpt2_124m", "bf16", 32, 1024, false);
        assertTrue(fp8.memory().arenaBytes() < 0.8 * bf16.memory().arenaBytes(),
                CompileSummary.mib(fp8.memory().arenaBytes()) + " vs " + CompileSummary.mib(bf16.memory().arenaBytes()));
    }

    /**
     * Without recompute, SwiGLU's kernel writes its output's fprop and wgrad operands and never the output itself:
     * backward keeps the FP8 codes. With it, the wgrad operand's quantization runs in backward from gate and up,
     * one launch a layer more, no BF16 copy, and the least memory.
     */
    @Test
    void withoutRecomputeSwiGluWritesBothOperandsInForward() {
        StepPlan plain = compile("qwen2.5-1.5b.octet", "qwen2_5_1_5b", "infir2", 2, 8192, false);
        StepPlan bf16 = compile("qwen2.5-1.5b.octet", "qwen2_5_1_5b", "bf16", 2, 8192, false);
        List<FusionGroup> swiglu = plain.kernels().fused().groups().stream()
                .filter(g -> g.root().op() instanceof Operator.SwiGlu).toList();
        assertEquals(28, swiglu.size());
        for (FusionGroup g : swiglu) {
            assertEquals("swiglu+quantize+quantize_transpose", g.pattern());
            assertFalse(plain.kernels().buffers().contains(g.root().outputs().getFirst()));
        }
        List<Node> fromInputs = plain.kernels().fused().graph().nodes().stream()
                .filter(n -> n.op() instanceof Operator.Quantize q && fromAnActivation(q)).toList();
        assertEquals(28, fromInputs.size());
        assertTrue(fromInputs.stream().allMatch(n -> n.phase() == Phase.FORWARD
                && ((Operator.Quantize) n.op()).source() == QuantizedSource.SWIGLU));
        double ratio = (double) plain.memory().arenaBytes() / bf16.memory().arenaBytes();
        System.out.printf(Locale.ROOT, "qwen 2x8192 arena: infir2 %s, bf16 %s (%.3f)%n",
                CompileSummary.mib(plain.memory().arenaBytes()), CompileSummary.mib(bf16.memory().arenaBytes()), ratio);
        assertTrue(ratio < 0.95, "infir2 / bf16 arena " + ratio);

        StepPlan recompute = compile("qwen2.5-1.5b.octet", "qwen2_5_1_5b", "infir2", 2, 8192, true);
        assertEquals(plain.kernels().launches().size() + 28, recompute.kernels().launches().size());
        assertTrue(recompute.memory().arenaBytes() < plain.memory().arenaBytes());
    }

    /** Delayed or tensor-wide scales need the whole tensor's amax first: those quantizations read it as stored. */
    @Test
    void quantizationsTheStagedTransposeCannotServeReadTheTensor() {
        StepPlan delayed = compile("qwen2.5-1.5b.octet", "qwen2_5_1_5b", "tensorwise-delayed", 1, 1024, true);
        assertTrue(delayed.kernels().fused().graph().nodes().stream()
                .noneMatch(n -> n.op() instanceof Operator.Quantize q && fromAnActivation(q)));
    }

    /** A block's norm, whose output only the block's FP8 projections read (the final norm feeds the BF16 LM head). */
    private static boolean normInsideABlock(Node n) {
        return (n.op() instanceof Operator.RmsNorm || n.op() instanceof Operator.LayerNorm)
                && n.outputs().getFirst().name().startsWith("layers.");
    }

    private static StepPlan compile(String file, String modelName, String recipeName, int batch, int seq,
                                    boolean recompute) {
        Program p = ExamplePrograms.loadWithRecipe(file, recipeName);
        ModelSpec model = p.model(modelName).orElseThrow();
        RecipeSpec recipe = ExamplePrograms.recipe(p, recipeName);
        if (recompute) {
            recipe = recipe.withRecompute(Set.of(Recompute.NORM, Recompute.ACTIVATION));
        }
        return Lowering.compile(CompileTarget.of(model, recipe, Optional.empty(), batch, seq), Lowering.QUIET);
    }

    /** Recomputed from an activation's producer (a weight's quantization from its master is not). */
    private static boolean fromAnActivation(Operator.Quantize q) {
        return q.source().isActivation();
    }
}
