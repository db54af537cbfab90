package dev.octet.cpu.decode;

import dev.octet.testing.ModelSources;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.Rounding;
import dev.octet.decode.BatchedGreedyDecoder;
import dev.octet.decode.Generation;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoding with the KV cache gives exactly the tokens, and bit for bit the logits, of recomputing the whole
 * sequence with the training forward pass at every step, on small random models.
 */
class IncrementalForwardTest {
    private static final String SOURCE = ModelSources.llamaLike(37, 128, 256, 4, 2, 32, 32)
            + ModelSources.gpt2Like(29, 16, 32, 2, 32) + ModelSources.RECIPES;

    private static Program load(Path dir) throws IOException {
        return ModelSources.load(dir, SOURCE);
    }

    /** Seeded weights, scaled up from the 0.02 initialisation so that the logits differ enough to steer decoding. */
    private static ParameterStore randomWeights(ModelSpec model, long seed) {
        ParameterStore params = ParameterStore.initialize(model, seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (ParameterStore.Entry e : params.entries()) {
            float[] w = e.master();
            for (int i = 0; i < w.length; i++) {
                w[i] = e.param().shape().size() == 1 ? (float) (1 + 0.3 * (r.nextDouble() - 0.5)) : w[i] * 40;
            }
        }
        params.refreshWorking(Rounding.GPU);
        return params;
    }

    @ParameterizedTest
    @CsvSource({"llama_like, infir2", "llama_like, bf16", "gpt2_like, bf16"})
    void kvCacheDecodingEqualsFullRecomputation(String modelName, String recipeName, @TempDir Path dir) throws IOException {
        Program program = load(dir);
        ModelSpec model = program.model(modelName).orElseThrow();
        RecipeSpec recipe = program.recipe(recipeName).orElseThrow();
        ParameterStore params = randomWeights(model, 17);
        RecipeLinearPolicy policy = new RecipeLinearPolicy(recipe, model.config().layers());
        GraphInterpreter full = new GraphInterpreter(model, params, policy, Rounding.GPU);
        IncrementalForward cached = new IncrementalForward(model, params, policy, Rounding.GPU);
        int vocab = model.config().vocab();
        List<int[]> prompts = List.of(new int[] {3, 1, 4, 1, 5}, new int[] {7}, new int[] {2, 7, 1, 8});
        int newTokens = 20;
        List<int[]> expected = new java.util.ArrayList<>();
        for (int[] prompt : prompts) {
            int[] sequence = Arrays.copyOf(prompt, prompt.length + newTokens);
            int length = prompt.length;
            cached.reset();
            double[] logits = cached.append(prompt);
            for (int step = 0; step < newTokens; step++) {
                double[] all = full.logits(new TokenBatch(1, length, Arrays.copyOf(sequence, length), new int[length],
                        new int[length], new double[length]));
                double[] reference = Arrays.copyOfRange(all, (length - 1) * vocab, length * vocab);
                assertArrayEquals(reference, logits, "logits of position " + (length - 1) + " (" + modelName + ", " + recipeName + ")");
                int next = argmax(reference);
                sequence[length++] = next;
                if (step + 1 < newTokens) {
                    logits = cached.append(next);
                }
            }
            expected.add(Arrays.copyOfRange(sequence, prompt.length, sequence.length));
        }
        // Token by token through two slots (continuous batching) generates what the full passes chose.
        try (CpuDecodeStep step = new CpuDecodeStep(2, model.config().maxSeq(), vocab,
                () -> new IncrementalForward(model, params, policy, Rounding.GPU))) {
            List<Generation> generated = BatchedGreedyDecoder.generate(step, prompts, -1, newTokens, (i, g) -> {});
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(expected.get(i), generated.get(i).tokens(), "prompt " + i);
                assertFalse(generated.get(i).stopped());
            }
        }
    }

    @Test
    void generationStopsAtTheStopTokenAndAtTheContext(@TempDir Path dir) throws IOException {
        Program program = load(dir);
        ModelSpec model = program.model("llama_like").orElseThrow();
        ParameterStore params = randomWeights(model, 5);
        RecipeLinearPolicy policy = new RecipeLinearPolicy(program.recipe("bf16").orElseThrow(), model.config().layers());
        int vocab = model.config().vocab();
        int context = 12;
        try (CpuDecodeStep step = new CpuDecodeStep(1, context, vocab,
                () -> new IncrementalForward(model, params, policy, Rounding.GPU))) {
            int[] prompt = {3, 1, 4};
            Generation free = BatchedGreedyDecoder.generate(step, List.of(prompt), -1, 100, (i, g) -> {}).getFirst();
            assertEquals(context - prompt.length, free.tokens().length, "prompt and generation fill the context");
            int stop = free.tokens()[2];
            int firstStop = 0;
            while (free.tokens()[firstStop] != stop) {
                firstStop++;
            }
            Generation stopped = BatchedGreedyDecoder.generate(step, List.of(prompt), stop, 100, (i, g) -> {}).getFirst();
            assertTrue(stopped.stopped());
            assertArrayEquals(Arrays.copyOf(free.tokens(), firstStop), stopped.tokens());
            assertThrows(IllegalArgumentException.class,
                    () -> BatchedGreedyDecoder.generate(step, List.of(new int[context]), -1, 4, (i, g) -> {}),
                    "a prompt that fills the context leaves no room");
        }
    }

    private static int argmax(double[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void prefillInPiecesEqualsPrefillAtOnce(@TempDir Path dir) throws IOException {
        Program program = load(dir);
        ModelSpec model = program.model("llama_like").orElseThrow();
        ParameterStore params = randomWeights(model, 3);
        RecipeLinearPolicy policy = new RecipeLinearPolicy(program.recipe("infir2").orElseThrow(), model.config().layers());
        IncrementalForward f = new IncrementalForward(model, params, policy, Rounding.GPU);
        double[] once = f.append(2, 7, 1, 8, 2, 8);
        f.reset();
        f.append(2, 7);
        f.append(1);
        double[] pieces = f.append(8, 2, 8);
        assertArrayEquals(once, pieces);
        f.reset();
        f.append(new int[32]);
        assertThrows(IllegalArgumentException.class, () -> f.append(1), "max_seq is the limit");
    }
}
