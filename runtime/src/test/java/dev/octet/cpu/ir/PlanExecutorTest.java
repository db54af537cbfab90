package dev.octet.cpu.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Fusion and memory reuse change where values live, never a bit of what a step computes. */
class PlanExecutorTest {
    @ParameterizedTest
    @CsvSource({"llama_like, bf16", "llama_like, infir2", "gpt2_like, bf16", "gpt2_like, infir2"})
    void planReproducesTheUnfusedGraphBitForBit(String modelName, String recipeName) {
        ModelSpec model = IrPrograms.model(modelName);
        TrainingSpec training = IrPrograms.training();
        StepPlan plan = Lowering.compile(IrPrograms.target(modelName, recipeName), Lowering.QUIET);
        FusedGraph fused = plan.kernels().fused();
        assertTrue(plan.memory().arenaBytes() < plan.memory().persistentBytes() + plan.memory().transientBytesWithoutReuse(),
                "the plan reuses memory");

        GraphExecutor graph = new GraphExecutor(IrPrograms.graph(modelName, recipeName), training);
        PlanExecutor planned = new PlanExecutor(plan, training);
        for (StepExecutor e : List.of(graph, planned)) {
            e.load(ParameterStore.initialize(model, training.seed()));
        }
        for (int step = 0; step < 2; step++) {
            List<TokenBatch> batches = IrPrograms.microBatches(model.config().vocab(), 100 + step);
            double loss = graph.forwardBackward(batches);
            assertEquals(Double.doubleToLongBits(loss), Double.doubleToLongBits(planned.forwardBackward(batches)),
                    "loss of step " + step);
            for (Parameter p : fused.graph().parameters()) {
                assertArrayEquals(graph.read(p.gradient()), planned.read(p.gradient()), p.gradient() + " step " + step);
            }
            double norm = graph.optimize(step, training.steps());
            assertEquals(Double.doubleToLongBits(norm), Double.doubleToLongBits(planned.optimize(step, training.steps())));
            for (Parameter p : fused.graph().parameters()) {
                for (Value v : p.values()) {
                    assertArrayEquals(graph.read(v), planned.read(v), v + " after step " + step);
                }
            }
        }
    }

    @Test
    void theArenaIsPoisonedSoAReadBeforeAnyWriteIsNaN() {
        TrainingSpec training = IrPrograms.training();
        PlanExecutor planned = new PlanExecutor(Lowering.compile(IrPrograms.target("llama_like", "bf16"), Lowering.QUIET),
                training);
        for (String name : List.of("layers.0.attention.q", "loss", "grad.embedding.weight")) {
            for (double x : planned.read(name)) {
                assertTrue(Double.isNaN(x), name + " holds " + x + " before anything wrote it");
            }
        }
    }
}
