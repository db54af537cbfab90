package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A linear layer's bias gradient under FP8 (Fusion's quantize+quantize_transpose+bias_gradient), at the example
 * models' real shapes: the kernel that quantizes dY in both layouts also writes each 128-token tile's column sums, and
 * one ordered sum of those tiles adds into the bias gradient, so dY is not read again for the bias. Where dY is not
 * quantized (BF16), the bias gradient keeps its own column-sum kernels.
 */
class BiasGradientFusionTest {

    /** An example and its bias gradients a step. */
    private record Example(String file, int biases) {}

    @Test
    void everyBiasGradientOfAnFp8GradientIsSummedByItsQuantizeKernel() {
        // GPT-2: q, k, v, the attention projection, fc and its projection in 12 layers; Qwen2.5: q, k, v in 28.
        for (Example example : List.of(new Example("gpt2-124m-pretrain.octet", 72), new Example("qwen2.5-1.5b-cpt.octet", 84))) {
            String file = example.file();
            StepPlan plan = plan(file, "infir2");
            assertEquals(List.of(), PlanVerifier.violations(plan.kernels(), plan.memory()), file);
            List<FusionGroup> fused = plan.kernels().fused().groups().stream()
                    .filter(g -> g.pattern().equals("quantize+quantize_transpose+bias_gradient")).toList();
            assertEquals(example.biases(), fused.size(), file);
            long biasGradients = plan.kernels().fused().graph().nodes().stream()
                    .filter(n -> n.op() instanceof Operator.BiasGradient).count();
            assertEquals(biasGradients, fused.size(), file + ": every bias gradient is fused");
            for (FusionGroup g : fused) {
                Node bias = g.nodes().stream().filter(n -> n.op() instanceof Operator.BiasGradient).findFirst().orElseThrow();
                for (Node n : g.nodes()) {
                    assertEquals(bias.inputs().getFirst(), n.inputs().getFirst(), "one dY: " + n.render());
                }
                List<String> kernels = plan.kernels().launches().stream().filter(l -> l.group() == g.id())
                        .map(l -> l.kernel().name()).toList();
                assertEquals(2, kernels.size(), kernels.toString());
                assertTrue(kernels.get(0).endsWith("_column_sums"), kernels.toString());
                assertTrue(kernels.get(1).startsWith("column_sum_accumulate_f32_"), kernels.toString());
            }
            assertTrue(plan.kernels().launches().stream().map(Launch::kernel)
                    .noneMatch(k -> k.name().startsWith("column_partial_sums_")), file);
        }
    }

    @Test
    void bf16BiasGradientsKeepTheirOwnColumnSums() {
        StepPlan plan = plan("gpt2-124m-pretrain.octet", "bf16");
        assertTrue(plan.kernels().fused().groups().stream().noneMatch(g -> g.pattern().endsWith("+bias_gradient")));
        assertTrue(plan.kernels().launches().stream().anyMatch(l -> l.kernel().name().startsWith("column_partial_sums_")));
    }

    private static StepPlan plan(String file, String recipeName) {
        Program p = ExamplePrograms.loadWithRecipe(file, recipeName);
        TrainingSpec t = ExamplePrograms.training(p, file);
        return Lowering.compile(CompileTarget.of(p.model(t.model()).orElseThrow(), ExamplePrograms.recipe(p, recipeName), t),
                Lowering.QUIET);
    }
}
