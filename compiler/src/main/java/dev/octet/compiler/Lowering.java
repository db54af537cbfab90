package dev.octet.compiler;

import dev.octet.compiler.build.GraphBuilder;
import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.IrPrinter;
import dev.octet.compiler.ir.StepShape;
import dev.octet.compiler.passes.ActivationRecomputation;
import dev.octet.compiler.passes.Autodiff;
import dev.octet.compiler.passes.Fusion;
import dev.octet.compiler.passes.GraphPass;
import dev.octet.compiler.passes.OptimizerStep;
import dev.octet.compiler.passes.QuantizeInsertion;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The compiler pipeline, in order: build the forward graph from the checked model, differentiate it, append
 * the optimizer, insert quantization per recipe, fuse, form kernels, plan memory. After each pass the
 * listener receives the pass name and the IR text ({@code octet compile --dump-after=PASS}).
 */
public final class Lowering {
    private Lowering() {}

    /** Pass names in pipeline order, as --dump-after accepts them. */
    public static final List<String> PASSES = List.of("build", "autodiff", "optimizer", "recompute", "quantize", "fuse");

    public static Graph trainingGraph(ModelSpec model, RecipeSpec recipe, TrainingSpec training,
                                      BiConsumer<String, String> dump) {
        StepShape shape = new StepShape(model.name(), recipe.name(), training.microBatch(), training.seqLen(),
                training.accumulation());
        Graph g = GraphBuilder.forward(model, shape);
        dump.accept("build", IrPrinter.print(g));
        for (GraphPass pass : List.of(new Autodiff(),
                new OptimizerStep(training.optimizer(), training.clipGradNorm()),
                new ActivationRecomputation(recipe.recompute()),
                new QuantizeInsertion(recipe, ParameterTable.of(model)))) {
            g = pass.run(g);
            dump.accept(pass.name(), IrPrinter.print(g));
        }
        return g;
    }

    /** The training graph partitioned into kernels. */
    public static FusedGraph fused(ModelSpec model, RecipeSpec recipe, TrainingSpec training,
                                   BiConsumer<String, String> dump) {
        FusedGraph f = Fusion.run(trainingGraph(model, recipe, training, dump));
        dump.accept(Fusion.NAME, f.print());
        return f;
    }
}
