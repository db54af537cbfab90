package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Properties of compiled steps beyond the golden text: the verifier's invariants (every transient written
 * before it is read, no two live buffers overlapping) for each recipe, memory reuse, FP8 where the recipe
 * says, what recomputation saves.
 */
class PlanInvariantsTest {
    static Stream<String> recipes() {
        return ExamplePrograms.recipeNames().stream();
    }

    private static StepPlan tiny(String recipeName, Set<Recompute> recompute) {
        Program p = ExamplePrograms.loadWithRecipe("tiny.octet", recipeName);
        TrainingSpec t = ExamplePrograms.training(p);
        RecipeSpec r = ExamplePrograms.recipe(p, recipeName);
        RecipeSpec withRecompute = new RecipeSpec(r.name(), r.pos(), r.forModel(), r.operands(), r.bf16(),
                r.masterWeights(), r.optimizerStates(), recompute);
        return Lowering.compile(CompileTarget.of(p.model(t.model()).orElseThrow(), withRecompute, t), Lowering.QUIET);
    }

    @ParameterizedTest
    @MethodSource("recipes")
    void planHoldsItsInvariantsAndReusesMemory(String recipe) {
        StepPlan plan = tiny(recipe, Set.of());
        assertEquals(java.util.List.of(), PlanVerifier.violations(plan.kernels(), plan.memory()));
        long transientHighWater = plan.memory().arenaBytes() - plan.memory().persistentBytes();
        assertTrue(transientHighWater < plan.memory().transientBytesWithoutReuse(),
                "liveness reuse must beat one buffer per value: " + transientHighWater);
        assertTrue(plan.memory().peakBytes().get(Phase.BACKWARD) <= plan.memory().arenaBytes());
    }

    @Test
    void bf16RecipeHasNoQuantizationAndInfir2QuantizesEveryLinearButTheHead() {
        assertFalse(operators(tiny("bf16", Set.of())).anyMatch(op -> op instanceof Operator.Quantize));
        StepPlan fp8 = tiny("infir2", Set.of());
        long fp8Gemms = operators(fp8).filter(op -> op instanceof Operator.MatMul mm && mm.fp8().isPresent()).count();
        long bf16Gemms = operators(fp8).filter(op -> op instanceof Operator.MatMul mm && mm.fp8().isEmpty()).count();
        long heads = operators(fp8).filter(op -> op instanceof Operator.LmHeadCrossEntropy).count();
        // 2 layers x 7 projections x 3 GEMMs in FP8; the tied LM head's 3 GEMMs in BF16, inside its loss.
        assertEquals(42, fp8Gemms);
        assertEquals(0, bf16Gemms);
        assertEquals(1, heads);
    }

    @Test
    void recomputationShortensLivenessAndLowersTheBackwardPeak() {
        // BF16: its wgrads read the norm and SwiGLU outputs themselves (under FP8 recipes backward's quantizations
        // recompute them from their inputs anyway, QuantizeFromInputsTest).
        StepPlan kept = tiny("bf16", Set.of());
        StepPlan recomputed = tiny("bf16", Set.of(Recompute.NORM, Recompute.ACTIVATION));
        assertTrue(recomputed.kernels().launches().size() > kept.kernels().launches().size(), "recompute adds launches");
        long before = kept.memory().peakBytes().get(Phase.FORWARD);
        long after = recomputed.memory().peakBytes().get(Phase.FORWARD);
        assertTrue(after < before, "forward peak " + after + " should be below " + before);
    }

    private static Stream<Operator> operators(StepPlan plan) {
        return plan.kernels().fused().groups().stream().map(FusionGroup::nodes).flatMap(java.util.List::stream).map(Node::op);
    }
}
