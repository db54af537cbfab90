package dev.octet.cli;

import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;

/**
 * What a command works on: FILE (plus the --recipe file, if one is named) checked, FILE's training block,
 * its model, and the recipe — the one named on the command line, else the training block's, else infir2.
 * Problems are printed (diagnostics, or one line saying what is missing) and give an empty result.
 */
record Selection(Program program, Optional<TrainingSpec> training, ModelSpec model, RecipeSpec recipe) {
    /** How a command without a training block finds its model: the file's only model, or none. */
    enum Training { REQUIRED, OPTIONAL }

    static Optional<Selection> load(CommandLine.Model.CommandSpec spec, Path file, String recipeOption, Training need,
                                    String whyTrainingIsNeeded) {
        List<Path> roots = new ArrayList<>(List.of(file));
        Optional<Path> recipeFile = recipeOption == null ? Optional.empty()
                : Optional.of(RecipeFiles.resolve(spec, recipeOption, file));
        recipeFile.ifPresent(roots::add);
        Diagnostics diagnostics = new Diagnostics();
        Optional<Program> loaded = Inputs.load(roots, diagnostics);
        if (diagnostics.hasErrors() || loaded.isEmpty()) {
            System.err.print(DiagnosticPrinter.render(diagnostics));
            return Optional.empty();
        }
        Program program = loaded.get();
        Optional<TrainingSpec> training = program.trainingsIn(file.toString()).stream().findFirst();
        if (training.isEmpty() && need == Training.REQUIRED) {
            System.err.println(file + ": no training block; " + whyTrainingIsNeeded);
            return Optional.empty();
        }
        List<ModelSpec> models = program.models().values().stream()
                .filter(m -> m.pos().file().equals(file.toString())).toList();
        Optional<ModelSpec> model = training.flatMap(t -> program.model(t.model()))
                .or(() -> models.size() == 1 ? Optional.of(models.getFirst()) : Optional.empty());
        if (model.isEmpty()) {
            System.err.println(file + ": expected one model (or a training block naming one); found " + models.size() + " models");
            return Optional.empty();
        }
        Optional<RecipeSpec> recipe = recipeFile.isPresent() ? RecipeFiles.definedIn(program, recipeFile.get(), recipeOption)
                : training.flatMap(TrainingSpec::recipe).flatMap(program::recipe)
                        .or(() -> RecipeFiles.builtin(RecipeFiles.DEFAULT_RECIPE));
        if (recipe.isEmpty()) {
            System.err.println(file + ": no recipe: name one in the training block or with --recipe");
            return Optional.empty();
        }
        return Optional.of(new Selection(program, training, model.get(), recipe.get()));
    }
}
