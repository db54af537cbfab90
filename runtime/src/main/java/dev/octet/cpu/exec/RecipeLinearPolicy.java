package dev.octet.cpu.exec;

import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;

/** BF16 or FP8 per linear layer, as the recipe's {@code bf16} list says; FP8 layers report to {@code health}. */
public record RecipeLinearPolicy(RecipeSpec recipe, int layerCount, Fp8HealthCollector health)
        implements GraphInterpreter.LinearPolicy {
    public RecipeLinearPolicy(RecipeSpec recipe, int layerCount) {
        this(recipe, layerCount, new Fp8HealthCollector());
    }

    @Override
    public LinearKernel kernelFor(ParameterTable.Linear linear) {
        if (recipe.bf16().keepsBf16(linear.projection(), linear.layer(), layerCount)) {
            return new Bf16LinearKernel();
        }
        return new Fp8LinearKernel(linear.name(), recipe, health);
    }
}
