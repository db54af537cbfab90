package dev.octet.tune;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.UnsupportedShapeException;
import dev.octet.compiler.plan.LaunchCost;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Scaling;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * A candidate's cost is the step it makes: the training block's recipe with that one operand role replaced is
 * compiled to the plan the GPU would run (fusions included: a 1×128 quantization fused into the norm that
 * produces its input costs no launch of its own, a tensor-wise one needs an amax pass first), and every launch is
 * priced from measured {@link KernelRates}. A candidate the GPU compiler refuses costs infinitely much.
 */
public final class MeasuredPricing implements Pricing {
    private record Key(Gemm gemm, Role role, TuneCandidate candidate) {}

    private final ModelSpec model;
    private final RecipeSpec base;
    private final TrainingSpec training;
    private final KernelRates rates;
    private final Map<Key, Double> seconds = new HashMap<>();

    public MeasuredPricing(ModelSpec model, RecipeSpec base, TrainingSpec training, KernelRates rates) {
        this.model = model;
        this.base = base;
        this.training = training;
        this.rates = rates;
    }

    @Override
    public double cost(Gemm gemm, Role role, TuneCandidate candidate) {
        return seconds.computeIfAbsent(new Key(gemm, role, candidate), k -> stepSeconds(with(k)));
    }

    @Override
    public String basis() {
        return "the step the recipe compiles to, each launch priced from the kernel rates " + rates.source();
    }

    /** The estimated time of the step {@code recipe} compiles to for the training block's batch. */
    public double stepSeconds(RecipeSpec recipe) {
        StepPlan plan;
        try {
            plan = Lowering.compile(CompileTarget.of(model, recipe, training), Lowering.QUIET);
        } catch (UnsupportedShapeException | IllegalArgumentException e) {
            return Double.POSITIVE_INFINITY;
        }
        double total = 0;
        for (LaunchCost launch : LaunchCost.of(plan)) {
            total += rates.seconds(launch);
        }
        return total;
    }

    private RecipeSpec with(Key k) {
        Map<Gemm, Map<Role, OperandQuant>> operands = new EnumMap<>(Gemm.class);
        base.operands().forEach((gemm, roles) -> operands.put(gemm, new EnumMap<>(roles)));
        TuneCandidate c = k.candidate();
        operands.get(k.gemm()).put(k.role(), new OperandQuant(c.format(), c.granularity(), c.scale(), new Scaling.Current()));
        return new RecipeSpec(base.name(), base.pos(), base.forModel(), operands, base.bf16(), base.masterWeights(),
                base.optimizerStates(), base.recompute());
    }
}
