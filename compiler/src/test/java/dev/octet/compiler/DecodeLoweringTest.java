package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decoding step of every example model under every recipe: forward launches only, one cached attention
 * per layer over its own key and value caches, the recipe's FP8 GEMMs, the logits as the one output, and a
 * plan that holds the verifier's invariants.
 */
class DecodeLoweringTest {
    record Case(String file, String recipe) {}

    static Stream<Case> cases() {
        return ExamplePrograms.modelFiles().stream()
                .flatMap(f -> ExamplePrograms.recipeNames().stream().map(r -> new Case(f, r)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void decodePlanIsAForwardOverCaches(Case c) {
        Program p = ExamplePrograms.loadWithRecipe(c.file(), c.recipe());
        ModelSpec model = p.models().values().iterator().next();
        int sequences = 8;
        int context = Math.min(model.config().maxSeq(), 1024);
        StepPlan plan = Lowering.compileDecode(model, ExamplePrograms.recipe(p, c.recipe()), sequences, context,
                Lowering.QUIET);
        assertEquals(List.of(), PlanVerifier.violations(plan.kernels(), plan.memory()));
        assertTrue(plan.kernels().launches().stream().allMatch(l -> l.phase() == Phase.FORWARD));

        List<Launch> attention = plan.kernels().launches().stream()
                .filter(l -> l.kernel().name().startsWith("decode_attention_")).toList();
        int layers = model.config().layers();
        assertEquals(layers, attention.size());
        List<Value> caches = plan.kernels().buffers().stream().filter(v -> v.storage() == Storage.KV_CACHE).toList();
        assertEquals(2 * layers, caches.size());
        for (Value cache : caches) {
            assertEquals(List.of(sequences, context, model.config().kvHeads() * model.config().headDim()),
                    cache.type().shape());
        }

        List<Value> outputs = plan.kernels().buffers().stream().filter(v -> v.storage() == Storage.OUTPUT).toList();
        assertEquals(1, outputs.size());
        assertEquals("logits", outputs.getFirst().name());
        assertEquals(List.of(sequences, model.config().vocab()), outputs.getFirst().type().shape());

        boolean fp8Recipe = !c.recipe().equals("bf16");
        boolean anyFp8 = plan.kernels().fused().graph().nodes().stream()
                .anyMatch(n -> n.op() instanceof Operator.MatMul mm && mm.fp8().isPresent());
        assertEquals(fp8Recipe, anyFp8, "FP8 GEMMs where the recipe asks for them");
        // Weights quantized with current scaling are quantized once, at load: their codes persist, and the launches
        // that write them are the plan's weight quantization, outside the replayed step.
        List<Value> weightCodes = plan.kernels().buffers().stream().filter(v -> v.storage() == Storage.WEIGHT_CODES).toList();
        long fp8Gemms = plan.kernels().fused().graph().nodes().stream()
                .filter(n -> n.op() instanceof Operator.MatMul mm && mm.fp8().isPresent()).count();
        if (c.recipe().equals("infir2") || c.recipe().equals("bf16")) {
            // codes and scales of every FP8 GEMM's weight operand (block scales, current)
            assertEquals(2 * fp8Gemms, weightCodes.size(), c.file());
        }
        assertTrue(plan.weightQuantization().stream().allMatch(l -> l.writes().stream()
                .allMatch(v -> v.storage() == Storage.WEIGHT_CODES || v.storage() == Storage.TRANSIENT)));
    }

    /**
     * Caches longer than the one-block kernel's shared memory holds (11,264 positions): each layer's attention splits
     * into chunks of positions and a combine, with the chunks' partials a transient of their own.
     */
    @Test
    void longContextsSplitTheAttentionAlongThePositions() {
        Program p = ExamplePrograms.loadWithRecipe("qwen2.5-1.5b.octet", "infir2");
        ModelSpec model = p.model("qwen2_5_1_5b").orElseThrow();
        int context = 20000;
        assertTrue(context <= model.config().maxSeq());
        StepPlan plan = Lowering.compileDecode(model, ExamplePrograms.recipe(p, "infir2"), 2, context, Lowering.QUIET);
        assertEquals(List.of(), PlanVerifier.violations(plan.kernels(), plan.memory()));
        List<Launch> attention = plan.kernels().launches().stream()
                .filter(l -> l.kernel().name().startsWith("decode_attention_")).toList();
        int layers = model.config().layers();
        assertEquals(2 * layers, attention.size());
        for (int i = 0; i < attention.size(); i += 2) {
            assertTrue(attention.get(i).kernel().name().startsWith("decode_attention_split_"), attention.get(i).kernel().name());
            assertTrue(attention.get(i + 1).kernel().name().startsWith("decode_attention_combine_"));
            assertEquals(attention.get(i).index() + 1, attention.get(i + 1).index(), "the combine follows its split");
        }
        assertTrue(plan.kernels().buffers().stream().anyMatch(v -> v.name().endsWith(".attention_partials")
                && v.storage() == Storage.TRANSIENT));
    }
}
