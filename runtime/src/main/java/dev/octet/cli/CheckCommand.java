package dev.octet.cli;

import dev.octet.dsl.check.RecipeFit;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code octet check FILE...}: parse and check each file; a one-line summary per valid file. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check .octet files and print, for each valid one, parameters, training FLOPs per token and FP8 granularity.")
final class CheckCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "model, recipe or training files")
    List<Path> files;

    @Option(names = "--recipe", paramLabel = "R",
            description = "recipe applied to the models: a name (infir2, bf16, rowwise, tensorwise-delayed) or a file; "
                    + "default: the training block's recipe, else infir2")
    String recipe;

    @Option(names = "--seq-len", paramLabel = "N", description = "sequence length for FLOPs per token; default: the training block's, else min(max_seq, 4096)")
    Integer seqLen;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private Optional<Path> recipeFile = Optional.empty();

    @Override
    public Integer call() {
        Inputs.requireFiles(spec, files);
        recipeFile = recipe == null ? Optional.empty() : Optional.of(RecipeFiles.resolve(spec, recipe, files.getFirst()));
        int exit = ExitCodes.OK;
        for (Path file : files) {
            Diagnostics diagnostics = new Diagnostics();
            List<Path> roots = new ArrayList<>(List.of(file));
            recipeFile.ifPresent(roots::add);
            Optional<Program> program = Inputs.load(roots, diagnostics);
            String summary = program.isPresent() && !diagnostics.hasErrors() ? summarize(file, program.get(), diagnostics) : "";
            if (diagnostics.hasErrors()) {
                System.err.print(DiagnosticPrinter.render(diagnostics));
                exit = ExitCodes.INVALID_INPUT;
            } else {
                System.out.println(summary);
            }
        }
        return exit;
    }

    private String summarize(Path file, Program program, Diagnostics diagnostics) {
        List<String> parts = new ArrayList<>();
        List<ModelSpec> models = program.models().values().stream()
                .filter(m -> m.pos().file().equals(file.toString())).toList();
        List<TrainingSpec> trainings = program.trainingsIn(file.toString());
        Optional<TrainingSpec> training = trainings.stream().findFirst();
        for (ModelSpec m : models) {
            ParameterTable table = ParameterTable.of(m);
            int seq = seqLen != null ? seqLen
                    : training.filter(t -> t.model().equals(m.name())).map(TrainingSpec::seqLen)
                    .orElse(Math.min(m.config().maxSeq(), 4096));
            Optional<RecipeSpec> r = chooseRecipe(program, training, diagnostics);
            r.ifPresent(rs -> RecipeFit.check(m, rs, training.map(t -> OptionalInt.of(t.microBatch() * t.seqLen()))
                    .orElse(OptionalInt.empty()), rs.pos(), diagnostics));
            parts.add(String.format(java.util.Locale.ROOT, "model %s: %,d params, %.3g GFLOP/token training (seq %d)%s",
                    m.name(), table.parameterCount(), table.trainingFlopsPerToken(seq) / 1e9, seq,
                    r.map(rs -> "; recipe " + rs.name() + ": " + rs.describe()).orElse("")));
        }
        if (models.isEmpty()) {
            for (RecipeSpec r : program.recipes().values()) {
                if (r.pos().file().equals(file.toString())) {
                    parts.add("recipe " + r.name() + ": " + r.describe());
                }
            }
        }
        for (TrainingSpec t : trainings) {
            parts.add(String.format(java.util.Locale.ROOT, "training %s: %s, %d steps of %d x %d tokens", t.name(), t.mode().name().toLowerCase(),
                    t.steps(), t.globalBatch(), t.seqLen()));
        }
        return file + ": " + (parts.isEmpty() ? "no definitions" : String.join(" | ", parts));
    }

    private Optional<RecipeSpec> chooseRecipe(Program program, Optional<TrainingSpec> training, Diagnostics diagnostics) {
        if (recipeFile.isPresent()) {
            return RecipeFiles.definedIn(program, recipeFile.get(), recipe);
        }
        Optional<RecipeSpec> fromTraining = training.flatMap(TrainingSpec::recipe).flatMap(program::recipe);
        if (fromTraining.isPresent()) {
            return fromTraining;
        }
        return RecipeFiles.builtin(RecipeFiles.DEFAULT_RECIPE);
    }
}
