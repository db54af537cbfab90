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
        return (microBatch, addRecompute) -> {
            RecipeSpec r = addRecompute ? recipe.withRecompute(EnumSet.allOf(Recompute.class)) : recipe;
            StepShape shape = new StepShape(model.name(), r.name(), microBatch, spec.seqLen(), spec.globalBatch() / microBatch);
            return DeviceMemoryPlan.of(Lowering.compile(new CompileTarget(model, r, shape, spec.optimizer(), spec.clipGradNorm()),
                    Lowering.QUIET));
        };
    }
}
