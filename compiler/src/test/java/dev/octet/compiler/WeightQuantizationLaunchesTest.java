package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a runtime runs again when the weights change outside a step ({@code StepPlan.weightQuantization}): every
 * launch of the groups that quantize weights into persistent codes, a tensor-wise scale's amax pass included, all
 * in the optimizer; nothing for a step of one micro-batch.
 */
class WeightQuantizationLaunchesTest {

    @Test
    void fourMicroBatchesQuantizeEachWeightOnceInTheOptimizer() {
        // tiny: 2 layers x 7 projection weights, each in fprop's and dgrad's layout
        StepPlan infir2 = plan("tiny-data-parallel.octet", "infir2");
        List<Launch> blocks = infir2.weightQuantization();
        assertEquals(2 * 7 * 2, blocks.size());
        assertTrue(blocks.stream().allMatch(l -> l.phase() == Phase.OPTIMIZER && l.kernel().name().endsWith("_of_master")),
                blocks.toString());

        // one scale per tensor: an amax pass, then the quantization, both in the group
        StepPlan tensorwise = plan("tiny-data-parallel.octet", "tensor-e5m2");
        List<Launch> launches = tensorwise.weightQuantization();
        assertEquals(2 * 2 * 7 * 2, launches.size());
        assertEquals(launches.size() / 2, launches.stream().filter(l -> l.kernel().name().startsWith("amax_reduce_")).count());
        assertTrue(launches.stream().allMatch(l -> l.phase() == Phase.OPTIMIZER));
    }

    @Test
    void oneMicroBatchQuantizesWeightsWhereTheyAreRead() {
        assertEquals(List.of(), plan("tiny.octet", "infir2").weightQuantization());
    }

    private static StepPlan plan(String file, String recipeName) {
        Program p = ExamplePrograms.loadWithRecipe(file, recipeName);
        TrainingSpec t = ExamplePrograms.training(p, file);
        return Lowering.compile(CompileTarget.of(p.model(t.model()).orElseThrow(), ExamplePrograms.recipe(p, recipeName), t),
                Lowering.QUIET);
    }
}
