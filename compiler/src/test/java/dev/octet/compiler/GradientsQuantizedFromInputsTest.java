package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SwiGLU backward under FP8 (GradientsQuantizedFromInputs) at Qwen2.5-1.5B's real shapes: where its gradients feed
 * only FP8 gate/up projections, it does not run and one kernel per layer quantizes both gradients in both layouts
 * from gate, up and dh; where something else reads them (BF16 GEMMs, tensor-wise scales), it runs as before.
 */
class GradientsQuantizedFromInputsTest {

    @Test
    void infir2QuantizesBothGradientsFromSwiGlusInputsInOneKernelPerLayer() {
        for (String recipe : List.of("infir2", "infir2-recompute")) {
            StepPlan plan = plan(recipe);
            assertEquals(List.of(), PlanVerifier.violations(plan.kernels(), plan.memory()));
            assertEquals(0, count(plan, Operator.SwiGluBackward.class), recipe);
            List<FusionGroup> siblings = plan.kernels().fused().groups().stream()
                    .filter(g -> g.pattern().equals("quantize+quantize_transpose+sibling")).toList();
            assertEquals(28, siblings.size(), recipe);
            for (FusionGroup g : siblings) {
                assertEquals(4, g.nodes().size());
                for (Node n : g.nodes()) {
                    Operator.Quantize q = (Operator.Quantize) n.op();
                    assertTrue(q.source() == QuantizedSource.SWIGLU_GATE_GRADIENT || q.source() == QuantizedSource.SWIGLU_UP_GRADIENT);
                    assertEquals(List.of("gate", "up", "hidden"), n.inputs().stream()
                            .map(v -> v.name().substring(v.name().lastIndexOf('.') + 1)).toList(), n.render());
                }
                List<Launch> launches = plan.kernels().launches().stream().filter(l -> l.group() == g.id()).toList();
                assertEquals(1, launches.size());
                assertTrue(launches.getFirst().kernel().name().endsWith("_of_swiglu_gate_gradient_and_swiglu_up_gradient"),
                        launches.getFirst().kernel().name());
            }
        }
    }

    @Test
    void swiGluBackwardStaysWhereItsGradientsAreReadOtherwise() {
        // BF16 GEMMs read dgate and dup; tensor-wise delayed scales need an amax over the whole gradient first.
        for (String recipe : List.of("bf16", "tensorwise-delayed")) {
            assertEquals(28, count(plan(recipe), Operator.SwiGluBackward.class), recipe);
        }
    }

    private static long count(StepPlan plan, Class<? extends Operator> kind) {
        return plan.kernels().fused().graph().nodes().stream().filter(n -> kind.isInstance(n.op())).count();
    }

    private static StepPlan plan(String recipeName) {
        String file = "qwen2.5-1.5b-cpt.octet";
        Program p = ExamplePrograms.loadWithRecipe(file, recipeName);
        TrainingSpec t = ExamplePrograms.training(p, file);
        return Lowering.compile(CompileTarget.of(p.model(t.model()).orElseThrow(), ExamplePrograms.recipe(p, recipeName), t),
                Lowering.QUIET);
    }
}
