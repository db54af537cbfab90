package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.MemoryPlanning;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.CompileSummary;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Weights that only block-quantized FP8 GEMMs read are quantized from their FP32 masters, at the example models'
 * real shapes: their BF16 working copies are neither written nor allocated, and the plan's persistent memory is
 * the BF16 plan's less exactly those copies. Working copies that anything else reads stay.
 */
class WeightsFromMastersTest {

    @Test
    void qwenProjectionsKeepNoWorkingCopyUnderInfir2() {
        StepPlan fp8 = compile("qwen2.5-1.5b.octet", "qwen2_5_1_5b", "infir2", 2, 8192);
        StepPlan bf16 = compile("qwen2.5-1.5b.octet", "qwen2_5_1_5b", "bf16", 2, 8192);
        assertEquals(List.of(), PlanVerifier.violations(fp8.kernels(), fp8.memory()));
        Graph g = fp8.kernels().fused().graph();
        long dropped = 0;
        int withoutCopy = 0;
        for (Parameter p : g.parameters()) {
            boolean projection = p.name().matches("layers\\.\\d+\\.(attention\\.[qkvo]|swiglu\\.(gate|up|down))\\.weight");
            assertEquals(projection, p.shadow().isEmpty(), p.name());
            if (projection) {
                withoutCopy++;
                dropped += MemoryPlanning.ALIGNMENT * Math.ceilDiv(2 * p.master().type().elements(), MemoryPlanning.ALIGNMENT);
            }
        }
        assertEquals(7 * 28, withoutCopy);
        Map<Value, List<Node>> consumers = g.consumers();
        int fromMasters = 0;
        for (Node n : g.nodes()) {
            if (n.op() instanceof Operator.Quantize q && q.source() == QuantizedSource.MASTER) {
                fromMasters++;
                Value master = n.inputs().getFirst();
                assertTrue(g.parameters().stream().anyMatch(p -> p.master().equals(master)), n.render());
            }
            if (n.op() instanceof Operator.AdamWUpdate a) {
                Parameter p = g.parameters().stream().filter(x -> x.name().equals(a.parameter())).findFirst().orElseThrow();
                assertEquals(p.values().size(), n.outputs().size(), "AdamW of " + p.name() + " writes " + n.outputs());
            }
        }
        // fprop's and dgrad's layouts of every projection weight
        assertEquals(2 * 7 * 28, fromMasters);
        assertTrue(fp8.kernels().buffers().stream().noneMatch(v -> v.name().endsWith(".weight.bf16")
                && v.name().startsWith("layers.") && !v.name().contains("norm")), "a projection's working copy is allocated");
        assertEquals(bf16.memory().persistentBytes() - dropped, fp8.memory().persistentBytes());
        System.out.printf(Locale.ROOT, "qwen 2x8192 persistent: infir2 %s, bf16 %s (%s of working copies not kept)%n",
                CompileSummary.mib(fp8.memory().persistentBytes()), CompileSummary.mib(bf16.memory().persistentBytes()),
                CompileSummary.mib(dropped));
        assertTrue(consumers.keySet().stream().noneMatch(v -> v.name().matches("layers\\.\\d+\\.attention\\.q\\.weight\\.bf16")));
    }

    /** GPT-2's token table feeds the embedding lookup and the BF16 LM head: its working copy stays, as do biases'. */
    @Test
    void aWorkingCopyThatBf16KernelsReadStays() {
        Graph g = compile("gpt2-124m.octet", "gpt2_124m", "infir2", 8, 1024).kernels().fused().graph();
        int withoutCopy = 0;
        for (Parameter p : g.parameters()) {
            if (p.name().equals("embedding.weight") || p.name().contains("bias") || p.name().contains("norm")) {
                assertTrue(p.shadow().isPresent(), p.name() + " lost the working copy its BF16 readers need");
            }
            withoutCopy += p.shadow().isEmpty() ? 1 : 0;
        }
        // q, k, v, o, fc and proj of each of the 12 layers
        assertEquals(6 * 12, withoutCopy);
    }

    /** Per-channel and delayed weight scales are not served from masters: every working copy stays. */
    @Test
    void otherWeightScalingsKeepTheirWorkingCopies() {
        for (String recipe : List.of("rowwise", "tensorwise-delayed", "bf16")) {
            Graph g = compile("tiny.octet", "tiny", recipe, 4, 128).kernels().fused().graph();
            for (Parameter p : g.parameters()) {
                assertTrue(p.shadow().isPresent(), recipe + ": " + p.name());
            }
            assertFalse(g.nodes().stream().anyMatch(n -> n.op() instanceof Operator.Quantize q
                    && q.source() == QuantizedSource.MASTER), recipe);
        }
    }

    private static StepPlan compile(String file, String modelName, String recipeName, int batch, int seq) {
        Program p = ExamplePrograms.loadWithRecipe(file, recipeName);
        ModelSpec model = p.model(modelName).orElseThrow();
        RecipeSpec recipe = ExamplePrograms.recipe(p, recipeName);
        return Lowering.compile(CompileTarget.of(model, recipe, Optional.empty(), batch, seq), Lowering.QUIET);
    }
}
