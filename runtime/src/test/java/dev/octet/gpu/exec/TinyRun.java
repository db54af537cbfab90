package dev.octet.gpu.exec;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.data.Batch;
import dev.octet.data.BatchSource;
import dev.octet.data.TokenDataset;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.testing.ExampleText;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/** The tiny example under one recipe: model, training block, its compiled step and its training text. */
record TinyRun(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, StepPlan plan, TokenDataset data) {
    static TinyRun of(String recipe) {
        return of(recipe, 0);
    }

    /**
     * With the LM head's loss in chunks of {@code lossChunkRows} tokens (the loss workspace holds that many rows of
     * logits); 0: the default workspace, which holds the tiny model's 512 tokens in one chunk.
     */
    static TinyRun of(String recipe, int lossChunkRows) {
        Program p = ExampleModels.load("tiny.octet", recipe);
        int vocab = p.model("tiny").orElseThrow().config().vocab();
        return of(p, recipe, lossChunkRows > 0 ? OptionalLong.of(2L * lossChunkRows * vocab) : OptionalLong.empty());
    }

    /**
     * The tiny example with a vocabulary of {@code vocab} ids, and a loss workspace of {@code lossWorkspaceBytes}
     * (0: the loss over the whole logits, no chunks; empty: the default).
     */
    static TinyRun withVocabulary(String recipe, int vocab, OptionalLong lossWorkspaceBytes) {
        return of(ExampleModels.loadEdited("tiny.octet", text -> text.replace("vocab      = 4096", "vocab      = " + vocab),
                recipe), recipe, lossWorkspaceBytes);
    }

    private static TinyRun of(Program p, String recipe, OptionalLong lossWorkspaceBytes) {
        ModelSpec model = p.model("tiny").orElseThrow();
        RecipeSpec r = p.recipe(recipe).orElseThrow();
        TrainingSpec spec = p.trainings().getFirst();
        CompileTarget target = CompileTarget.of(model, r, spec);
        if (lossWorkspaceBytes.isPresent()) {
            target = target.withLossWorkspace(lossWorkspaceBytes.getAsLong());
        }
        StepPlan plan = Lowering.compile(target, Lowering.QUIET);
        // The model's vocabulary: the most frequent GPT-2 tokens of the text, as octet train maps it.
        return new TinyRun(model, r, spec, plan, ExampleText.brown(model.config().vocab()));
    }

    /** The same run with its recipe recomputing {@code what} ({@code recompute = [...]}), compiled again. */
    TinyRun recomputing(Set<Recompute> what) {
        RecipeSpec r = recipe.withRecompute(what);
        return new TinyRun(model, r, spec, Lowering.compile(CompileTarget.of(model, r, spec), Lowering.QUIET), data);
    }

    /** The same run with {@code accumulation} micro-batches a step, compiled again. */
    TinyRun withMicroBatches(int accumulation) {
        TrainingSpec s = spec.withBatch(spec.microBatch(), spec.microBatch() * accumulation);
        return new TinyRun(model, recipe, s, Lowering.compile(CompileTarget.of(model, recipe, s), Lowering.QUIET), data);
    }

    /** The first {@code n} training batches of the run's seed, as the trainers draw them. */
    List<Batch> batches(int n) {
        BatchSource source = data.trainBatches(spec.microBatch(), spec.seqLen(), spec.seed());
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(source.next());
        }
        return out;
    }
}
