package dev.octet.train;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.StepShape;
import dev.octet.compiler.plan.DeviceMemoryPlan;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.EnumSet;
import java.util.OptionalLong;

/**
 * Plans the training step again at another micro-batch size, with the recipe's recomputation or with
 * recompute = [norm, activation] added: what a device-memory refusal proposes instead. On the GPU it is the
 * compiler; in tests, a formula.
 */
@FunctionalInterface
public interface StepReplanner {
    DeviceMemoryPlan plan(int microBatch, boolean addRecompute);

    /** The compiler, on the training block's sequence length, global batch and optimizer settings. */
    static StepReplanner compiler(ModelSpec model, RecipeSpec recipe, TrainingSpec spec) {
        return compiler(model, recipe, spec, OptionalLong.empty());
    }

    /** The same, with the LM head's loss workspace of the run ({@code empty}: the compiler's default). */
    static StepReplanner compiler(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, OptionalLong lossWorkspaceBytes) {
        return (microBatch, addRecompute) -> {
            RecipeSpec r = addRecompute ? recipe.withRecompute(EnumSet.allOf(Recompute.class)) : recipe;
            StepShape shape = new StepShape(model.name(), r.name(), microBatch, spec.seqLen(), spec.globalBatch() / microBatch);
            CompileTarget target = new CompileTarget(model, r, shape, spec.optimizer(), spec.clipGradNorm());
            return DeviceMemoryPlan.of(Lowering.compile(lossWorkspaceBytes.isPresent()
                    ? target.withLossWorkspace(lossWorkspaceBytes.getAsLong()) : target, Lowering.QUIET));
        };
    }
}
