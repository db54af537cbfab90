package dev.octet.cpu.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.Rounding;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import java.io.IOException;
import java.nio.file.Files;
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
    private static final String SOURCE = """
            model llama_like {
              vocab = 37  dim = 128  ffn = 256  heads = 4  kv_heads = 2  head_dim = 32  layers = 2  max_seq = 32
              tie_embeddings = true
              forward {
                x = embedding(tokens)
                repeat layers {
                  x = x + attention(rmsnorm(x), rope = true)
                  x = x + swiglu(rmsnorm(x))
                }
                logits = lm_head(rmsnorm(x))
                loss = cross_entropy(logits, targets)
              }
            }
            model gpt2_like {
              vocab = 29  dim = 16  ffn = 32  heads = 2  layers = 2  max_seq = 32
              bias = [q, k, v, o, up, down, lm_head]
              forward {
                x = embedding(tokens) + position_embedding(tokens)
                repeat layers {
                  x = x + attention(layernorm(x))
                  x = x + gelu_mlp(layernorm(x))
                }
                logits = lm_head(layernorm(x))
                loss = cross_entropy(logits, targets)
              }
            }
            recipe bf16 { bf16 = all }
            recipe infir2 {
              format = e4m3  scale = ue8m0  scaling = current
              weights = block(128)  activations = group(128)  gradients = group(128)
              bf16 = [embedding, lm_head, attention_core, norm]
            }
            """;

    private static Program load(Path dir) throws IOException {
        Path file = dir.resolve("models.octet");
        Files.writeString(file, SOURCE);
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(List.of(file), d);
        if (d.hasErrors()) {
            throw new AssertionError(DiagnosticPrinter.render(d));
        }
        return p;
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
        for (int[] prompt : List.of(new int[] {3, 1, 4, 1, 5}, new int[] {7})) {
            int newTokens = 20;
            int[] sequence = Arrays.copyOf(prompt, prompt.length + newTokens);
            int length = prompt.length;
            cached.reset();
            double[] logits = cached.append(prompt);
            for (int step = 0; step < newTokens; step++) {
                double[] all = full.logits(new TokenBatch(1, length, Arrays.copyOf(sequence, length), new int[length],
                        new int[length], new double[length]));
                double[] reference = Arrays.copyOfRange(all, (length - 1) * vocab, length * vocab);
                assertArrayEquals(reference, logits, "logits of position " + (length - 1) + " (" + modelName + ", " + recipeName + ")");
                int next = GreedyDecoder.argmax(reference);
                sequence[length++] = next;
                if (step + 1 < newTokens) {
                    logits = cached.append(next);
                }
            }
            GreedyDecoder.Generation g = GreedyDecoder.generate(cached, prompt, -1, newTokens, model.config().maxSeq());
            assertArrayEquals(Arrays.copyOfRange(sequence, prompt.length, sequence.length), g.tokens());
        }
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
