package dev.octet.compiler;

import dev.octet.compiler.build.GraphBuilder;
import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.IrPrinter;
import dev.octet.compiler.passes.ActivationRecomputation;
import dev.octet.compiler.passes.Autodiff;
import dev.octet.compiler.passes.Fusion;
import dev.octet.compiler.passes.GraphPass;
import dev.octet.compiler.passes.KernelFormation;
import dev.octet.compiler.passes.MemoryPlanning;
import dev.octet.compiler.passes.OptimizerStep;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.passes.QuantizeInsertion;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.MemoryPlan;
import dev.octet.compiler.plan.PlanText;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.ParameterTable;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The compiler pipeline, in order: build the forward graph from the checked model, differentiate it, append
 * the optimizer, recompute what the recipe asks, insert quantization per recipe, fuse, form kernels, plan
 * memory. After each pass the listener receives the pass name and the IR text
 * ({@code octet compile --dump-after=PASS}). The finished plan is verified before it is returned.
 */
public final class Lowering {
    private Lowering() {}

    /** Pass names in pipeline order, as --dump-after accepts them. */
    public static final List<String> PASSES = List.of("build", "autodiff", "optimizer", "recompute", "quantize",
            Fusion.NAME, KernelFormation.NAME, MemoryPlanning.NAME);

    /** No dumps. */
    public static final BiConsumer<String, String> QUIET = (pass, text) -> {};

    /** The whole training step as one graph, before fusion. */
    public static Graph trainingGraph(CompileTarget t, BiConsumer<String, String> dump) {
        Graph g = GraphBuilder.forward(t.model(), t.shape());
        dump.accept("build", IrPrinter.print(g));
        for (GraphPass pass : List.of(new Autodiff(), new OptimizerStep(t.adamw(), t.clipNorm()),
                new ActivationRecomputation(t.recipe().recompute()),
                new QuantizeInsertion(t.recipe(), ParameterTable.of(t.model())))) {
            g = pass.run(g);
            dump.accept(pass.name(), IrPrinter.print(g));
        }
        return g;
    }

    /** The compiled step: kernels with their launches, and the memory plan. */
    public static StepPlan compile(CompileTarget t, BiConsumer<String, String> dump) {
        FusedGraph fused = Fusion.run(trainingGraph(t, dump));
        dump.accept(Fusion.NAME, fused.print());
        KernelPlan kernels = KernelFormation.run(fused);
        dump.accept(KernelFormation.NAME, PlanText.kernels(kernels));
        MemoryPlan memory = MemoryPlanning.run(kernels);
        double flops = ParameterTable.of(t.model()).trainingFlopsPerToken(t.shape().seq())
                * t.shape().tokens() * t.shape().accumulation();
        StepPlan plan = new StepPlan(kernels, memory, flops);
        dump.accept(MemoryPlanning.NAME, PlanText.memory(plan));
        List<String> problems = PlanVerifier.violations(kernels, memory);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("the compiled plan breaks its invariants:\n  " + String.join("\n  ", problems));
        }
        return plan;
    }
}
