package dev.octet.compiler;

import dev.octet.compiler.build.GraphBuilder;
import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.IrPrinter;
import dev.octet.compiler.ir.StepShape;
import dev.octet.compiler.passes.ActivationRecomputation;
import dev.octet.compiler.passes.Autodiff;
import dev.octet.compiler.passes.Fusion;
import dev.octet.compiler.passes.GradientsQuantizedFromInputs;
import dev.octet.compiler.passes.GraphPass;
import dev.octet.compiler.passes.QuantizeFromInputs;
import dev.octet.compiler.passes.KernelFormation;
import dev.octet.compiler.passes.LmHeadLossChunking;
import dev.octet.compiler.passes.MemoryPlanning;
import dev.octet.compiler.passes.MultiTensorLaunches;
import dev.octet.compiler.passes.OptimizerStep;
import dev.octet.compiler.passes.PlanVerifier;
import dev.octet.compiler.passes.QuantizeInsertion;
import dev.octet.compiler.passes.WeightsFromMasters;
import dev.octet.compiler.passes.WeightsQuantizedAtLoad;
import dev.octet.compiler.passes.WeightsQuantizedPerStep;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.MemoryPlan;
import dev.octet.compiler.plan.PlanText;
import dev.octet.compiler.plan.StepInterface;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The compiler pipeline, in order: build the forward graph from the checked model, differentiate it, fuse the
 * LM head with its loss over chunks of tokens, append the optimizer, recompute what the recipe asks, insert quantization per recipe, fuse, form kernels,
 * merge per-parameter launches into multi-tensor ones, plan memory. After each pass the listener receives the pass name and the IR text
 * ({@code octet compile --dump-after=PASS}). The finished plan is verified before it is returned.
 */
public final class Lowering {
    private Lowering() {}

    /** Pass names in pipeline order, as --dump-after accepts them. */
    public static final List<String> PASSES = List.of("build", "autodiff", LmHeadLossChunking.NAME, "optimizer",
            "recompute", "quantize", QuantizeFromInputs.NAME, GradientsQuantizedFromInputs.NAME, WeightsFromMasters.NAME,
            WeightsQuantizedPerStep.NAME,
            Fusion.NAME, KernelFormation.NAME, MultiTensorLaunches.NAME, MemoryPlanning.NAME);

    /** Sequences a decoding step serves at once unless told otherwise ({@code octet eval --slots}). */
    public static final int DEFAULT_DECODE_SLOTS = 64;

    /**
     * Positions a decoding step's caches hold unless told otherwise: the model's max_seq, at most this. Caches grow
     * with slots × positions, and a model's full max_seq (up to 128k) is rarely what an evaluation needs.
     */
    public static final int DECODE_CONTEXT_CAP = 2048;

    /** No dumps. */
    public static final BiConsumer<String, String> QUIET = (pass, text) -> {};

    /** The whole training step as one graph, before fusion. */
    public static Graph trainingGraph(CompileTarget t, BiConsumer<String, String> dump) {
        Graph g = GraphBuilder.forward(t.model(), t.shape());
        dump.accept("build", IrPrinter.print(g));
        for (GraphPass pass : List.of(new Autodiff(),
                new LmHeadLossChunking(t.recipe(), ParameterTable.of(t.model()), t.lossWorkspaceBytes()),
                new OptimizerStep(t.adamw(), t.clipNorm()),
                new ActivationRecomputation(t.recipe().recompute()),
                new QuantizeInsertion(t.recipe(), ParameterTable.of(t.model())), new QuantizeFromInputs(t.recipe().recompute()),
                new GradientsQuantizedFromInputs(), new WeightsFromMasters(), new WeightsQuantizedPerStep())) {
            g = pass.run(g);
            dump.accept(pass.name(), IrPrinter.print(g));
        }
        return g;
    }

    /** The compiled step: kernels with their launches, and the memory plan. */
    public static StepPlan compile(CompileTarget t, BiConsumer<String, String> dump) {
        double flops = ParameterTable.of(t.model()).trainingFlopsPerToken(t.shape().seq())
                * t.shape().tokens() * t.shape().accumulation();
        return plan(trainingGraph(t, dump), flops, ParameterTable.of(t.model()), t.recipe(), dump);
    }

    /**
     * One decoding step for {@code sequences} sequences at once (one new token each, attending over per-layer
     * key/value caches of {@code context} positions), with the recipe's forward quantization: what greedy
     * generation replays per token.
     */
    public static StepPlan compileDecode(ModelSpec model, RecipeSpec recipe, int sequences, int context,
                                         BiConsumer<String, String> dump) {
        StepShape shape = new StepShape(model.name(), recipe.name(), sequences, 1, 1);
        Graph g = GraphBuilder.decode(model, shape, context);
        dump.accept("build", IrPrinter.print(g));
        g = new QuantizeInsertion(recipe, ParameterTable.of(model)).run(g);
        dump.accept("quantize", IrPrinter.print(g));
        g = new WeightsQuantizedAtLoad().run(g);
        dump.accept(WeightsQuantizedAtLoad.NAME, IrPrinter.print(g));
        // A forward is a third of a training step's multiply-adds (the backward's two GEMMs per forward GEMM).
        double flops = ParameterTable.of(model).trainingFlopsPerToken(context) / 3 * sequences;
        return plan(g, flops, ParameterTable.of(model), recipe, dump);
    }

    /** Fusion, kernel formation and memory planning of a graph whose passes are done, verified. */
    private static StepPlan plan(Graph g, double flops, ParameterTable table, RecipeSpec recipe,
                                 BiConsumer<String, String> dump) {
        FusedGraph fused = Fusion.run(g);
        dump.accept(Fusion.NAME, fused.print());
        KernelPlan formed = KernelFormation.run(fused);
        dump.accept(KernelFormation.NAME, PlanText.kernels(formed));
        KernelPlan kernels = MultiTensorLaunches.run(formed);
        dump.accept(MultiTensorLaunches.NAME, PlanText.kernels(kernels));
        MemoryPlan memory = MemoryPlanning.run(kernels);
        StepPlan plan = new StepPlan(kernels, memory, flops, StepInterface.of(kernels, table, recipe));
        dump.accept(MemoryPlanning.NAME, PlanText.memory(plan));
        List<String> problems = PlanVerifier.violations(kernels, memory);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("the compiled plan breaks its invariants:\n  " + String.join("\n  ", problems));
        }
        return plan;
    }
}
