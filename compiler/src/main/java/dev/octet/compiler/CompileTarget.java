package dev.octet.compiler;

import dev.octet.compiler.ir.StepShape;
import dev.octet.compiler.passes.LmHeadLossChunking;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.Optional;

/**
 * What one compilation specialises for: model, recipe, micro-batch shape and the optimizer settings that
 * are compile-time constants (betas, eps, weight decay, clipping norm; the learning rate is a step input), and
 * the bytes the LM head's loss may use for one chunk's logits ({@link LmHeadLossChunking}; 0: no chunking).
 */
public record CompileTarget(ModelSpec model, RecipeSpec recipe, StepShape shape, TrainingSpec.AdamW adamw,
                            double clipNorm, long lossWorkspaceBytes) {
    /** AdamW settings used when a model is compiled without a training block. */
    public static final TrainingSpec.AdamW DEFAULT_ADAMW = new TrainingSpec.AdamW(3e-4, 0.9, 0.95, 1e-8, 0.1);

    public CompileTarget {
        if (lossWorkspaceBytes < 0) {
            throw new IllegalArgumentException("a loss workspace of " + lossWorkspaceBytes + " bytes");
        }
    }

    /** With the default loss workspace. */
    public CompileTarget(ModelSpec model, RecipeSpec recipe, StepShape shape, TrainingSpec.AdamW adamw, double clipNorm) {
        this(model, recipe, shape, adamw, clipNorm, LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES);
    }

    /** The same target with another loss workspace (0: the whole micro-batch's logits at once). */
    public CompileTarget withLossWorkspace(long bytes) {
        return new CompileTarget(model, recipe, shape, adamw, clipNorm, bytes);
    }

    public static CompileTarget of(ModelSpec model, RecipeSpec recipe, TrainingSpec training) {
        return new CompileTarget(model, recipe, new StepShape(model.name(), recipe.name(), training.microBatch(),
                training.seqLen(), training.accumulation()), training.optimizer(), training.clipGradNorm());
    }

    /** The training block's settings where there is one, with the micro-batch shape given. */
    public static CompileTarget of(ModelSpec model, RecipeSpec recipe, Optional<TrainingSpec> training, int batch, int seq) {
        return new CompileTarget(model, recipe,
                new StepShape(model.name(), recipe.name(), batch, seq, training.map(TrainingSpec::accumulation).orElse(1)),
                training.map(TrainingSpec::optimizer).orElse(DEFAULT_ADAMW),
                training.map(TrainingSpec::clipGradNorm).orElse(1.0));
    }
}
