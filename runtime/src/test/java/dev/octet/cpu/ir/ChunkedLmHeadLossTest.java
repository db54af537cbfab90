package dev.octet.cpu.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Parameter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The LM head's loss over chunks of tokens computes what the unchunked nodes (head GEMM, cross-entropy, its
 * backward, dgrad, wgrad, bias gradient) compute: every row (logits, loss, dlogits, dx) is the same, so the loss
 * and every gradient but the head's are the same bits; the head's weight and bias gradients, summed over tokens
 * chunk by chunk, differ by summation order only. Random tokens, one target in ten masked, 128 tokens per
 * micro-batch in chunks of 48, 48 and 32, two micro-batches.
 */
class ChunkedLmHeadLossTest {
    @ParameterizedTest
    @CsvSource({"llama_like, bf16", "llama_like, infir2", "gpt2_like, bf16"})
    void chunksChangeOnlyTheSummationOrderOfTheHeadsGradient(String modelName, String recipeName) {
        ModelSpec model = IrPrograms.model(modelName);
        TrainingSpec training = IrPrograms.training();
        Graph whole = graph(IrPrograms.target(modelName, recipeName).withLossWorkspace(0));
        Graph chunked = graph(IrPrograms.chunkedTarget(modelName, recipeName));
        Operator.LmHeadCrossEntropy head = chunked.nodes().stream().map(n -> n.op())
                .filter(op -> op instanceof Operator.LmHeadCrossEntropy).map(op -> (Operator.LmHeadCrossEntropy) op)
                .findFirst().orElseThrow();
        assertEquals(3, head.chunks());
        assertEquals(32, head.rows(2));
        assertTrue(whole.nodes().stream().noneMatch(n -> n.op() instanceof Operator.LmHeadCrossEntropy));

        GraphExecutor a = new GraphExecutor(whole, training);
        GraphExecutor b = new GraphExecutor(chunked, training);
        a.load(ParameterStore.initialize(model, training.seed()));
        b.load(ParameterStore.initialize(model, training.seed()));
        List<TokenBatch> batches = IrPrograms.microBatches(model.config().vocab(), 23);
        double lossA = a.forwardBackward(batches);
        double lossB = b.forwardBackward(batches);
        assertEquals(Double.doubleToLongBits(lossA), Double.doubleToLongBits(lossB), "loss " + lossA + " vs " + lossB);

        // What the head's wgrad and bias gradient write: the tied embedding's gradient, or the head's own.
        Set<String> summedOverChunks = Set.of("grad.embedding.weight", "grad.lm_head.weight", "grad.lm_head.bias");
        for (Parameter p : chunked.parameters()) {
            double[] ga = a.read(p.gradient());
            double[] gb = b.read(p.gradient());
            if (summedOverChunks.contains(p.gradient().name())) {
                double err = GraphExecutorOracleTest.relative(gb, ga, 0);
                System.out.printf(Locale.ROOT, "%s/%s %s: chunked vs whole rel L2 %.2e%n", modelName, recipeName,
                        p.gradient().name(), err);
                assertTrue(err < 1e-6, p.gradient() + " differs by " + err);
            } else {
                assertArrayEquals(ga, gb, p.gradient() + " must not depend on chunking");
            }
        }
    }

    private static Graph graph(CompileTarget t) {
        return Lowering.trainingGraph(t, Lowering.QUIET);
    }
}
