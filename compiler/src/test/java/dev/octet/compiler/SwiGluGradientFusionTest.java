package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * SwiGLU's gradients under FP8 at Qwen2.5-1.5B's real shape: read only by their dgrad and wgrad quantizations, they
 * are computed by the one kernel that quantizes both in both layouts and never written in BF16; where a recipe's
 * quantizations are not 1×g groups with current scaling, or there is no FP8, SwiGLU backward writes them.
 */
class SwiGluGradientFusionTest {

    @Test
    void qwenSwiGluGradientsAreQuantizedWithoutBeingStored() {
        StepPlan plan = compile("infir2");
        assertEquals(List.of(), PlanVerifier.violations(plan.kernels(), plan.memory()));
        List<FusionGroup> groups = swiGluBackwards(plan);
        assertEquals(28, groups.size());
        for (FusionGroup g : groups) {
            assertEquals("swiglu_backward+quantize+quantize_transpose", g.pattern());
            assertEquals(5, g.nodes().size());
            for (Value gradient : g.root().outputs()) {
                assertFalse(plan.kernels().buffers().contains(gradient), gradient + " is written");
            }
        }
        List<Launch> paired = plan.kernels().launches().stream()
                .filter(l -> l.spec() instanceof QuantizeGroups q && q.sibling().isPresent()).toList();
        assertEquals(28, paired.size());
        QuantizeGroups spec = (QuantizeGroups) paired.getFirst().spec();
        assertEquals(QuantizedSource.SWIGLU_DGATE, spec.source());
        assertEquals(Optional.of(QuantizedSource.SWIGLU_DUP), spec.sibling());
        assertTrue(spec.rows().isPresent());
        assertTrue(plan.kernels().launches().stream().noneMatch(l -> l.spec().kernelName().startsWith("swiglu_backward")));
    }

    @Test
    void otherRecipesKeepSwiGluBackward() {
        for (String recipe : List.of("bf16", "tensorwise-delayed")) {
            StepPlan plan = compile(recipe);
            assertTrue(swiGluBackwards(plan).stream().allMatch(g -> g.pattern().equals("swiglu_backward")), recipe);
            assertEquals(28, plan.kernels().launches().stream()
                    .filter(l -> l.spec().kernelName().startsWith("swiglu_backward")).count(), recipe);
        }
    }

    private static List<FusionGroup> swiGluBackwards(StepPlan plan) {
        return plan.kernels().fused().groups().stream().filter(g -> g.root().op() instanceof Operator.SwiGluBackward).toList();
    }

    private static StepPlan compile(String recipeName) {
        Program p = ExamplePrograms.loadWithRecipe("qwen2.5-1.5b.octet", recipeName);
        ModelSpec model = p.model("qwen2_5_1_5b").orElseThrow();
        return Lowering.compile(CompileTarget.of(model, ExamplePrograms.recipe(p, recipeName), Optional.empty(), 2, 8192),
                Lowering.QUIET);
    }
}
