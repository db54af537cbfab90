package dev.octet.cpu.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.StepShape;
import dev.octet.compiler.ir.Value;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * With two micro-batches a step, weights are quantized once, after the update, instead of in every micro-batch:
 * the same bits as the step that quantizes them per micro-batch, over several steps (the first step's codes come
 * from {@code load}).
 */
class WeightsQuantizedPerStepTest {

    @ParameterizedTest
    @CsvSource({"llama_like, infir2", "gpt2_like, infir2", "llama_like, bf16"})
    void quantizingOncePerStepChangesNoBit(String modelName, String recipeName) {
        ModelSpec model = IrPrograms.model(modelName);
        TrainingSpec training = IrPrograms.training();
        assertEquals(2, training.accumulation());
        Graph perStep = IrPrograms.graph(modelName, recipeName);
        // The same step compiled for one micro-batch keeps its weight quantizations in forward and backward;
        // run with two micro-batches, it quantizes the weights in each.
        CompileTarget one = IrPrograms.target(modelName, recipeName);
        StepShape s = one.shape();
        Graph single = Lowering.trainingGraph(new CompileTarget(one.model(), one.recipe(),
                new StepShape(s.model(), s.recipe(), s.batch(), s.seq(), 1), one.adamw(), one.clipNorm()), Lowering.QUIET);
        Graph perMicroBatch = new Graph(s, single.parameters(), single.inputs(), single.nodes());

        long moved = perStep.nodes().stream().filter(Node::writesWeightCodes).count();
        long inForward = perMicroBatch.nodes().stream().filter(n -> n.op() instanceof Operator.Quantize
                && n.phase() != Phase.OPTIMIZER && perMicroBatch.parameters().stream().anyMatch(p -> reads(n, p))).count();
        assertEquals(inForward, moved);
        assertTrue(recipeName.equals("bf16") ? moved == 0 : moved > 0, moved + " weight quantizations moved");

        GraphExecutor a = new GraphExecutor(perStep, training);
        GraphExecutor b = new GraphExecutor(perMicroBatch, training);
        for (GraphExecutor e : List.of(a, b)) {
            e.load(ParameterStore.initialize(model, training.seed()));
        }
        for (int step = 0; step < 3; step++) {
            List<TokenBatch> batches = IrPrograms.microBatches(model.config().vocab(), 300 + step);
            assertEquals(Double.doubleToLongBits(b.forwardBackward(batches)), Double.doubleToLongBits(a.forwardBackward(batches)),
                    "loss of step " + step);
            assertEquals(Double.doubleToLongBits(b.optimize(step, training.steps())),
                    Double.doubleToLongBits(a.optimize(step, training.steps())), "gradient norm of step " + step);
            for (Parameter p : perStep.parameters()) {
                for (Value v : List.of(p.master(), p.m(), p.v())) {
                    assertArrayEquals(b.read(v), a.read(v), v + " after step " + step);
                }
            }
        }
    }

    private static boolean reads(Node n, Parameter p) {
        return n.inputs().contains(p.master()) || p.shadow().filter(n.inputs()::contains).isPresent();
    }
}
