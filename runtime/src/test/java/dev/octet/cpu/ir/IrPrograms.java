package dev.octet.cpu.ir;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Graph;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.testing.ModelSources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Two small models whose linear layers fit 128-wide FP8 groups and blocks (dim 128, ffn 256, 128 tokens
 * per micro-batch), the bf16 and infir2 recipes, and one training block with two micro-batches per step.
 */
final class IrPrograms {
    private IrPrograms() {}

    static final String SOURCE = ModelSources.llamaLike(96, 128, 256, 4, 2, 64, 64) + ModelSources.gpt2Like(96, 128, 256, 2, 64)
            + ModelSources.RECIPES + """
            training step {
              model = llama_like  recipe = infir2
              optimizer = adamw(lr = 3e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
              schedule = cosine(warmup = 2, min_lr = 3e-4)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 4  seq_len = 64  steps = 4  seed = 5
            }
            """;

    private static Program program;

    static synchronized Program program() {
        if (program == null) {
            try {
                Path file = Files.createTempDirectory("octet-ir").resolve("ir.octet");
                Files.writeString(file, SOURCE);
                Diagnostics d = new Diagnostics();
                Program p = ProgramLoader.load(List.of(file), d);
                if (d.hasErrors()) {
                    throw new AssertionError(DiagnosticPrinter.render(d));
                }
                program = p;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return program;
    }

    static ModelSpec model(String name) {
        return program().model(name).orElseThrow();
    }

    static RecipeSpec recipe(String name) {
        return program().recipe(name).orElseThrow();
    }

    static TrainingSpec training() {
        return program().trainings().getFirst();
    }

    static Graph graph(String model, String recipe) {
        return Lowering.trainingGraph(target(model, recipe), Lowering.QUIET);
    }

    static CompileTarget target(String model, String recipe) {
        return CompileTarget.of(model(model), recipe(recipe), training());
    }

    /**
     * A loss workspace of 48 rows of logits: each micro-batch's 128 tokens in chunks of 48, 48 and 32, so the
     * LM head's loss runs over several chunks with a ragged last one.
     */
    static CompileTarget chunkedTarget(String model, String recipe) {
        return target(model, recipe).withLossWorkspace(48L * 2 * model(model).config().vocab());
    }

    /**
     * The micro-batches of one step: random tokens; the second sequence of each holds three documents; one
     * target in ten is masked out, the same number in every micro-batch, so the oracle's mean of per-batch
     * means is the step program's mean over counted tokens.
     */
    static List<TokenBatch> microBatches(int vocab, long seed) {
        TrainingSpec t = training();
        SplittableRandom r = new SplittableRandom(seed);
        List<TokenBatch> out = new ArrayList<>();
        for (int micro = 0; micro < t.accumulation(); micro++) {
            int n = t.microBatch() * t.seqLen();
            int[] inputs = new int[n];
            int[] targets = new int[n];
            int[] docs = new int[n];
            double[] mask = new double[n];
            for (int i = 0; i < n; i++) {
                inputs[i] = r.nextInt(vocab);
                targets[i] = r.nextInt(vocab);
                int pos = i % t.seqLen();
                docs[i] = i < t.seqLen() ? 0 : 1 + (pos >= 20 ? 1 : 0) + (pos >= 45 ? 1 : 0);
                mask[i] = (i + micro) % 10 == 3 ? 0 : 1;
            }
            out.add(new TokenBatch(t.microBatch(), t.seqLen(), inputs, targets, docs, mask));
        }
        return out;
    }
}
