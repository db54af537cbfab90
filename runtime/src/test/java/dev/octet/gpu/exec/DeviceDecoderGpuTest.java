package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.checkpoint.MasterWeights;
import dev.octet.cpu.decode.CpuDecodeStep;
import dev.octet.cpu.decode.IncrementalForward;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.ops.Rounding;
import dev.octet.decode.BatchedGreedyDecoder;
import dev.octet.decode.Generation;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The compiled decoding step on the GPU against the CPU reference forward with a KV cache, on the tiny model
 * with weights scaled up so that the logits spread: the same tokens fed to both (four slots, each at its own
 * position, one slot restarting) give logits within a relative L2 of 2e-2 at every step; greedy generation of
 * twelve prompts through four GPU slots writes the CPU's tokens (one slot, one prompt after another) for at
 * least 90% of the tokens — near-ties may flip where FP32 and FP64 attention round apart.
 */
@GpuKernelTest
class DeviceDecoderGpuTest {
    private static final int SLOTS = 4;
    private static final int CONTEXT = 64;

    @ParameterizedTest
    @CsvSource({"infir2", "bf16"})
    void decodingMatchesTheCpu(String recipeName) throws IOException {
        Program p = ExampleModels.load("tiny.octet", recipeName);
        ModelSpec model = p.model("tiny").orElseThrow();
        RecipeSpec recipe = p.recipe(recipeName).orElseThrow();
        ParameterStore params = spreadWeights(model, 20, 0);
        RecipeLinearPolicy policy = new RecipeLinearPolicy(recipe, model.config().layers());
        int vocab = model.config().vocab();
        SplittableRandom random = new SplittableRandom(9);
        try (DeviceDecoder gpu = DeviceDecoder.open(model, recipe, SLOTS, CONTEXT, MasterWeights.Source.of(params));
             CpuDecodeStep cpu = new CpuDecodeStep(SLOTS, CONTEXT, vocab,
                     () -> new IncrementalForward(model, params, policy, Rounding.GPU))) {
            assertEquals(SLOTS, gpu.slots());
            assertEquals(CONTEXT, gpu.context());
            int[] position = new int[SLOTS];
            double worst = 0;
            for (int step = 0; step < 40; step++) {
                int[] tokens = new int[SLOTS];
                for (int s = 0; s < SLOTS; s++) {
                    tokens[s] = random.nextInt(vocab);
                }
                if (step == 25) {
                    position[2] = 0;  // slot 2 starts a new sequence over its old cache
                }
                float[] want = cpu.step(tokens, position);
                float[] got = gpu.step(tokens, position);
                for (int s = 0; s < SLOTS; s++) {
                    worst = Math.max(worst, relativeL2(got, want, s * vocab, vocab));
                    position[s]++;
                }
            }
            System.out.printf(Locale.ROOT, "decoding %s: worst per-slot logits relative L2 %.2e over 40 steps%n", recipeName, worst);
            assertTrue(worst < 2e-2, "logits relative L2 " + worst);

            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                int[] prompt = new int[1 + random.nextInt(10)];
                for (int t = 0; t < prompt.length; t++) {
                    prompt[t] = random.nextInt(vocab);
                }
                prompts.add(prompt);
            }
            int maxNew = 24;
            List<Generation> onGpu = BatchedGreedyDecoder.generate(gpu, prompts, -1, maxNew, (i, g) -> {});
            try (CpuDecodeStep one = new CpuDecodeStep(1, CONTEXT, vocab,
                    () -> new IncrementalForward(model, params, policy, Rounding.GPU))) {
                List<Generation> onCpu = BatchedGreedyDecoder.generate(one, prompts, -1, maxNew, (i, g) -> {});
                int same = 0;
                int total = 0;
                for (int i = 0; i < prompts.size(); i++) {
                    int[] a = onGpu.get(i).tokens();
                    int[] b = onCpu.get(i).tokens();
                    assertEquals(b.length, a.length, "prompt " + i + " generates up to the same limit");
                    // Tokens after the first difference continue from different text: count the agreeing prefix.
                    int prefix = 0;
                    while (prefix < a.length && a[prefix] == b[prefix]) {
                        prefix++;
                    }
                    same += prefix;
                    total += a.length;
                }
                System.out.printf(Locale.ROOT, "decoding %s: GPU (%d slots) and CPU agree on %d of %d greedy tokens%n",
                        recipeName, SLOTS, same, total);
                assertTrue(same >= 0.9 * total, same + " of " + total + " greedy tokens agree");
            }
        }
    }

    /**
     * The tiny model's initial weights with matrices scaled by {@code factor} (so that the logits spread) and norm
     * weights set to 0.8-1.2, each then moved by a uniform relative {@code noise} (seeded), rounded as the GPU keeps them.
     */
    static ParameterStore spreadWeights(ModelSpec model, float factor, double noise) {
        ParameterStore params = ParameterStore.initialize(model, 5);
        SplittableRandom random = new SplittableRandom(3);
        for (ParameterStore.Entry e : params.entries()) {
            float[] w = e.master();
            for (int i = 0; i < w.length; i++) {
                float spread = e.param().shape().size() == 1 ? 1 + 0.1f * (i % 5 - 2) : w[i] * factor;
                w[i] = noise == 0 ? spread : (float) (spread * (1 + noise * (2 * random.nextDouble() - 1)));
            }
        }
        params.refreshWorking(Rounding.GPU);
        return params;
    }

    static double relativeL2(float[] a, float[] b, int from, int n) {
        double diff = 0;
        double norm = 0;
        for (int i = from; i < from + n; i++) {
            diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
            norm += b[i] * (double) b[i];
        }
        return Math.sqrt(diff / Math.max(norm, 1e-30));
    }
}
