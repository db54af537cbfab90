package dev.octet.compiler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.optim.AdamWSteps;
import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.ExamplePrograms;
import dev.octet.compiler.Lowering;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Program;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every launch of a step gets its family, layer and cost before anything runs. */
class LaunchCostTest {
    @Test
    void theTinyStepsLaunchesFallIntoTheirFamiliesWithTheGemmsFlops() {
        Program p = ExamplePrograms.loadWithRecipe("tiny.octet", "infir2");
        ModelSpec model = p.model("tiny").orElseThrow();
        StepPlan plan = Lowering.compile(CompileTarget.of(model, ExamplePrograms.recipe(p, "infir2"),
                ExamplePrograms.training(p)), Lowering.QUIET);
        List<LaunchCost> costs = LaunchCost.of(plan);
        assertEquals(plan.kernels().launches().size(), costs.size());

        Map<KernelFamily, Double> flops = new EnumMap<>(KernelFamily.class);
        EnumSet<KernelFamily> seen = EnumSet.noneOf(KernelFamily.class);
        int layers = model.config().layers();
        for (LaunchCost c : costs) {
            seen.add(c.family());
            flops.merge(c.family(), c.flops(), Double::sum);
            assertTrue(c.bytes() > 0, c.launch().kernel().name());
            assertTrue(c.layer() >= -1 && c.layer() < layers, c.layer() + " " + c.launch().kernel().name());
        }
        assertEquals(EnumSet.of(KernelFamily.GEMM_FPROP, KernelFamily.GEMM_DGRAD, KernelFamily.GEMM_WGRAD,
                KernelFamily.GEMM_LM_HEAD, KernelFamily.ATTENTION_FORWARD, KernelFamily.ATTENTION_BACKWARD,
                KernelFamily.QUANTIZE, KernelFamily.NORM, KernelFamily.ELEMENTWISE, KernelFamily.LOSS,
                KernelFamily.OPTIMIZER), seen);
        // The block's linear layers: each GEMM role does 2·tokens·in·out per layer, the same for all three roles.
        int tokens = plan.kernels().fused().graph().shape().tokens();
        double perRole = ParameterTable.of(model).linears().stream().filter(l -> l.layer() >= 0)
                .mapToDouble(l -> 2.0 * tokens * l.in() * l.out()).sum();
        assertEquals(perRole, flops.get(KernelFamily.GEMM_FPROP), 1e-6 * perRole);
        assertEquals(perRole, flops.get(KernelFamily.GEMM_DGRAD), 1e-6 * perRole);
        assertEquals(perRole, flops.get(KernelFamily.GEMM_WGRAD), 1e-6 * perRole);
        assertEquals(2.5 * flops.get(KernelFamily.ATTENTION_FORWARD), flops.get(KernelFamily.ATTENTION_BACKWARD), 1e-6);
        String perLayer = CompileSummary.launchesPerLayer(plan);
        assertTrue(perLayer.matches("(?s)  per layer: \\d+(-\\d+)? launches forward and \\d+(-\\d+)? backward in each of 2 layers; \\d+ outside.*"),
                perLayer);
        for (LaunchCost c : costs) {
            if (c.family() == KernelFamily.GEMM_FPROP) {
                assertTrue(c.layer() >= 0, "every block GEMM has its layer: " + c.launch().kernel().name());
            }
            if (c.launch().spec() instanceof AdamWSteps s && s.elements().size() > 1) {
                assertEquals(-1, c.layer(), "a multi-tensor update over several layers belongs to none: " + c.launch().kernel().name());
            }
        }
    }
}
