package dev.octet.cpu.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.decode.IncrementalForward;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.ops.Rounding;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.testing.ModelSources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The compiled decoding step, run node by node on the CPU, against the reference forward with a KV cache: two
 * slots fed different sequences, one slot restarted at position 0 over its stale cache. The forward stores no
 * value the decoding step needs more narrowly than the reference, so the logits agree bit for bit.
 */
class DecodeGraphTest {
    private static final String SOURCE = ModelSources.llamaLike(37, 128, 256, 4, 2, 32, 24)
            // Llama 3's RoPE scaling with a short original context, so that the 16 frequencies fall in all three bands.
            + ModelSources.llama("llama_scaled", 37, 128, 256, 4, 2, 32, 2, 24).replace("tie_embeddings = true",
                    "tie_embeddings = true  rope_theta = 500000\n  rope_scaling = llama3(factor = 8, low_freq_factor = 1, "
                            + "high_freq_factor = 4, original_max_seq = 64)")
            + ModelSources.RECIPES;

    @ParameterizedTest
    @CsvSource({"llama_like, infir2", "llama_like, bf16", "llama_scaled, bf16"})
    void decodeGraphMatchesTheReferenceForward(String modelName, String recipeName, @TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.octet");
        Files.writeString(file, SOURCE);
        Diagnostics d = new Diagnostics();
        Program program = ProgramLoader.load(List.of(file), d);
        assertTrue(!d.hasErrors(), () -> DiagnosticPrinter.render(d));
        ModelSpec model = program.model(modelName).orElseThrow();
        RecipeSpec recipe = program.recipe(recipeName).orElseThrow();
        ParameterStore params = ParameterStore.initialize(model, 11);
        for (ParameterStore.Entry e : params.entries()) {
            float[] w = e.master();
            for (int i = 0; i < w.length; i++) {
                w[i] = e.param().shape().size() == 1 ? 1 + 0.1f * (i % 7 - 3) : w[i] * 30;
            }
        }
        params.refreshWorking(Rounding.GPU);
        int context = 16;
        StepPlan plan = Lowering.compileDecode(model, recipe, 2, context, Lowering.QUIET);
        Graph graph = plan.kernels().fused().graph();
        ValueBuffers buffers = new ValueBuffers();
        Set<Value> read = new HashSet<>();
        graph.nodes().forEach(n -> read.addAll(n.inputs()));
        for (Parameter p : graph.parameters()) {
            p.shadow().filter(read::contains).ifPresent(s -> buffers.put(s, params.get(p.name()).working()));
        }
        for (Value v : read) {
            if (v.storage() == Storage.KV_CACHE || v.storage() == Storage.OPTIMIZER_STATE) {
                buffers.put(v, new double[Math.toIntExact(v.type().elements())]);
            }
        }
        Value tokens = input(graph, "tokens");
        Value positions = input(graph, "positions");
        Value logits = graph.nodes().stream().flatMap(n -> n.outputs().stream()).filter(v -> v.name().equals("logits"))
                .findFirst().orElseThrow();
        RecipeLinearPolicy policy = new RecipeLinearPolicy(recipe, model.config().layers());
        IncrementalForward[] reference = {new IncrementalForward(model, params, policy, Rounding.GPU),
                new IncrementalForward(model, params, policy, Rounding.GPU)};
        int[][] sequences = {{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}, {2, 7, 1, 8, 2, 8, 1, 8, 2, 8}};
        int vocab = model.config().vocab();
        NodeExecutor executor = new NodeExecutor();
        // The weights' quantizations once, as the device decoder runs them at load; every step reads their codes.
        List<Node> once = graph.nodes().stream().filter(Node::writesWeightCodes).toList();
        assertEquals(!recipeName.equals("bf16"), !once.isEmpty(), "weight quantizations hoisted out of the step");
        once.forEach(n -> executor.execute(n, buffers));
        double worst = 0;
        for (int step = 0; step < 10; step++) {
            // Slot 1 starts over after 6 tokens: its cache still holds the old positions 6..9's neighbours.
            int position1 = step < 6 ? step : step - 6;
            int[] position = {step, position1};
            int[] token = {sequences[0][step], sequences[1][step]};
            if (position1 == 0) {
                reference[1].reset();
            }
            buffers.put(tokens, new double[] {token[0], token[1]});
            buffers.put(positions, new double[] {position[0], position[1]});
            for (Node n : graph.nodes()) {
                if (!once.contains(n)) {
                    executor.execute(n, buffers);
                }
            }
            double[] got = buffers.get(logits);
            for (int s = 0; s < 2; s++) {
                double[] want = reference[s].append(token[s]);
                for (int i = 0; i < vocab; i++) {
                    double scale = Math.max(1.0, Math.abs(want[i]));
                    worst = Math.max(worst, Math.abs(got[s * vocab + i] - want[i]) / scale);
                }
            }
        }
        assertEquals(0.0, worst, "worst relative logit difference (" + modelName + ", " + recipeName + ")");
        assertEquals(2, tokens.type().elements());
    }

    private static Value input(Graph g, String name) {
        return g.inputs().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }
}
