package dev.octet.compiler.emit;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.UnsupportedShapeException;
import dev.octet.compiler.plan.PlanJson;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.check.RecipeFit;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * Build step of the generated module: compiles every example model with every example recipe and writes
 * the step classes (Java sources), their kernels and launch plans (resources under {@code steps/CLASS/}),
 * and an index class listing them; beside each, the kernels of the model's decoding step ({@code decode/},
 * {@link Lowering#DEFAULT_DECODE_SLOTS} sequences over caches of min(max_seq, {@link Lowering#DECODE_CONTEXT_CAP}) positions, as
 * {@code octet eval} compiles it by default) with their names in {@code decode/kernels.txt}, so that CI
 * compiles those too. A model without a training block is compiled for one sequence of
 * min(max_seq, 1024) tokens; a file that defines no model (a training block over another file's model) is
 * skipped. A recipe that does not fit a model (RecipeFit), or a model whose shapes no kernel
 * template serves (UnsupportedShapeException), is skipped and reported.
 * Usage: {@code GenerateExamples EXAMPLES_DIR JAVA_OUT RESOURCES_OUT}.
 */
public final class GenerateExamples {
    private GenerateExamples() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: GenerateExamples EXAMPLES_DIR JAVA_OUT RESOURCES_OUT");
        }
        Path examples = Path.of(args[0]);
        Path javaOut = Path.of(args[1]);
        Path resources = Path.of(args[2]);
        List<String> classes = new ArrayList<>();
        for (Path modelFile : list(examples)) {
            for (Path recipeFile : list(examples.resolve("recipes"))) {
                Diagnostics d = new Diagnostics();
                Program p = ProgramLoader.load(List.of(modelFile, recipeFile), d);
                if (d.hasErrors()) {
                    throw new IllegalStateException(DiagnosticPrinter.render(d));
                }
                Optional<ModelSpec> defined = p.models().values().stream()
                        .filter(m -> m.pos().file().equals(modelFile.toString())).findFirst();
                if (defined.isEmpty()) {
                    // A training file over another file's model (e.g. qwen2.5-1.5b-cpt.octet): that model's own
                    // file already generates its steps.
                    System.out.println("octet: skipping " + modelFile.getFileName() + ": it defines no model");
                    break;
                }
                ModelSpec model = defined.get();
                RecipeSpec recipe = p.recipes().values().stream().filter(r -> r.pos().file().equals(recipeFile.toString()))
                        .findFirst().orElseThrow(() -> new IllegalStateException(recipeFile + " defines no recipe"));
                Optional<TrainingSpec> training = p.trainings().stream()
                        .filter(t -> t.pos().file().equals(modelFile.toString())).findFirst();
                int batch = training.map(TrainingSpec::microBatch).orElse(1);
                int seq = training.map(TrainingSpec::seqLen).orElse(Math.min(model.config().maxSeq(), 1024));
                Diagnostics fit = new Diagnostics();
                RecipeFit.check(model, recipe, OptionalInt.of(batch * seq), model.pos(), fit);
                if (fit.hasErrors()) {
                    System.out.println("octet: skipping " + model.name() + " with " + recipe.name() + ": "
                            + fit.all().getFirst().message());
                    continue;
                }
                StepPlan plan;
                try {
                    plan = Lowering.compile(CompileTarget.of(model, recipe, training, batch, seq), Lowering.QUIET);
                } catch (UnsupportedShapeException e) {
                    System.out.println("octet: skipping " + model.name() + " with " + recipe.name() + ": " + e.getMessage());
                    continue;
                }
                var file = JavaStepEmitter.emit(plan, CompileOutput.JAVA_PACKAGE,
                        examples.relativize(modelFile) + " and recipes/" + recipeFile.getFileName());
                file.writeTo(javaOut);
                String cls = file.typeSpec().name();
                Path dir = resources.resolve("steps").resolve(cls);
                Files.createDirectories(dir.resolve("kernels"));
                for (var k : plan.distinctKernels().values()) {
                    Files.writeString(dir.resolve("kernels").resolve(k.name() + ".cu"), k.source());
                }
                Files.writeString(dir.resolve("plan.json"), PlanJson.write(plan));
                StepPlan decode = Lowering.compileDecode(model, recipe, Lowering.DEFAULT_DECODE_SLOTS,
                        Math.min(model.config().maxSeq(), Lowering.DECODE_CONTEXT_CAP), Lowering.QUIET);
                Path decodeKernels = dir.resolve("decode").resolve("kernels");
                Files.createDirectories(decodeKernels);
                for (var k : decode.distinctKernels().values()) {
                    Files.writeString(decodeKernels.resolve(k.name() + ".cu"), k.source());
                }
                Files.write(dir.resolve("decode").resolve("kernels.txt"), decode.distinctKernels().keySet());
                classes.add(cls);
                System.out.println("octet: generated " + cls + " (" + plan.kernels().launches().size() + " launches, "
                        + plan.distinctKernels().size() + " kernels)");
            }
        }
        IndexEmitter.emit(CompileOutput.JAVA_PACKAGE, classes).writeTo(javaOut);
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".octet")).sorted().toList();
        }
    }
}
