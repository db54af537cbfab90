package dev.octet.cli;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.UnsupportedShapeException;
import dev.octet.compiler.emit.CompileOutput;
import dev.octet.compiler.plan.CompileSummary;
import dev.octet.compiler.plan.DataParallelMemory;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.check.RecipeFit;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code octet compile MODEL.octet --out DIR}: the training step as CUDA kernels, a launch plan and Java. */
@Command(name = "compile", mixinStandardHelpOptions = true,
        description = "Compile the training step of FILE's model into CUDA kernels (DIR/kernels), a launch plan (DIR/plan.json) and Java (DIR/java).")
final class CompileCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "a .octet file defining a model (and optionally a training block)")
    Path file;

    @Option(names = "--recipe", paramLabel = "R", description = "a recipe name (bf16, infir2, rowwise, tensorwise-delayed) or file; default: the training block's, else infir2")
    String recipe;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "output directory")
    Path out;

    @Option(names = "--dump-after", paramLabel = "PASS", description = "print the IR after PASS (one of: ${COMPLETION-CANDIDATES}, or all)",
            completionCandidates = PassNames.class)
    String dumpAfter;

    @Option(names = "--batch", paramLabel = "B", description = "sequences per micro-batch (default: the training block's, else 1)")
    Integer batch;

    @Option(names = "--seq", paramLabel = "S", description = "tokens per sequence (default: the training block's, else min(max_seq, 1024))")
    Integer seq;

    @Option(names = "--gpus", paramLabel = "N", defaultValue = "1",
            description = "also print what each of N GPUs holds in a data-parallel run with sharded optimizer state")
    int gpus;

    @Option(names = "--loss-workspace", paramLabel = "MIB", description = LossWorkspaceOption.DESCRIPTION)
    Long lossWorkspaceMib;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static final class PassNames extends ArrayList<String> {
        PassNames() {
            super(Lowering.PASSES);
        }
    }

    @Override
    public Integer call() throws IOException {
        Inputs.requireFiles(spec, List.of(file));
        if (gpus < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--gpus must be 1 or more, not " + gpus);
        }
        if (dumpAfter != null && !dumpAfter.equals("all") && !Lowering.PASSES.contains(dumpAfter)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown pass '" + dumpAfter + "' for --dump-after; passes: "
                    + String.join(", ", Lowering.PASSES) + " (or all)");
        }
        Optional<Selection> selected = Selection.load(spec, file, recipe, Selection.Training.OPTIONAL, "");
        if (selected.isEmpty()) {
            return ExitCodes.INVALID_INPUT;
        }
        Optional<TrainingSpec> training = selected.get().training();
        RecipeSpec chosen = selected.get().recipe();
        ModelSpec m = selected.get().model();
        Diagnostics diagnostics = new Diagnostics();
        int b = batch != null ? batch : training.map(TrainingSpec::microBatch).orElse(1);
        int s = seq != null ? seq : training.map(TrainingSpec::seqLen).orElse(Math.min(m.config().maxSeq(), 1024));
        if (b < 1 || s < 1 || s > m.config().maxSeq()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch must be at least 1 and --seq between 1 and max_seq ("
                    + m.config().maxSeq() + ")");
        }
        RecipeFit.check(m, chosen, OptionalInt.of(b * s), training.map(TrainingSpec::pos).orElse(m.pos()), diagnostics);
        if (diagnostics.hasErrors()) {
            System.err.print(DiagnosticPrinter.render(diagnostics));
            return ExitCodes.INVALID_INPUT;
        }
        CompileTarget target = CompileTarget.of(m, chosen, training, b, s);
        OptionalLong workspace = LossWorkspaceOption.bytes(spec, lossWorkspaceMib, b * s, m.config());
        if (workspace.isPresent()) {
            target = target.withLossWorkspace(workspace.getAsLong());
        }
        StepPlan plan;
        try {
            plan = Lowering.compile(target, (pass, text) -> {
            if (pass.equals(dumpAfter) || "all".equals(dumpAfter)) {
                System.out.println("// ---- IR after " + pass + " ----");
                System.out.print(text);
            }
            });
        } catch (UnsupportedShapeException e) {
            System.err.println(file + ": error: the CUDA backend cannot compile model " + m.name() + ": " + e.getMessage()
                    + " (the CPU backend trains it: octet train --device cpu)");
            return ExitCodes.INVALID_INPUT;
        }
        CompileOutput.Written written = CompileOutput.write(out, plan);
        System.out.print(CompileSummary.of(plan));
        if (gpus > 1) {
            System.out.print(DataParallelMemory.of(plan, gpus).describe());
        }
        // The other choice of activation recomputation, compiled only to report what it would change.
        RecipeSpec r = chosen;
        Set<Recompute> other = r.recompute().isEmpty() ? EnumSet.allOf(Recompute.class) : Set.of();
        StepPlan alternative = Lowering.compile(new CompileTarget(m, r.withRecompute(other), target.shape(), target.adamw(),
                target.clipNorm(), target.lossWorkspaceBytes()), Lowering.QUIET);
        System.out.print(r.recompute().isEmpty() ? CompileSummary.recomputeEffect(alternative, plan)
                : CompileSummary.recomputeEffect(plan, alternative));
        System.out.printf("  wrote %s (%d kernels), %s, %s%n", written.kernels(), written.kernelCount(), written.plan(),
                written.java());
        return ExitCodes.OK;
    }
}
