package dev.octet.dsl.spec;

import dev.octet.dsl.ast.SourceFile;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Everything a set of .octet files defines, checked: models, recipes and training settings by name. */
public record Program(List<SourceFile> files, Map<String, ModelSpec> models, Map<String, RecipeSpec> recipes,
                      List<TrainingSpec> trainings) {
    public Program {
        files = List.copyOf(files);
        models = Map.copyOf(models);
        recipes = Map.copyOf(recipes);
        trainings = List.copyOf(trainings);
    }

    public Optional<ModelSpec> model(String name) {
        return Optional.ofNullable(models.get(name));
    }

    public Optional<RecipeSpec> recipe(String name) {
        return Optional.ofNullable(recipes.get(name));
    }

    /** The training blocks {@code file} itself defines (named as it was given to the loader), not a file it imports. */
    public List<TrainingSpec> trainingsIn(String file) {
        return trainings.stream().filter(t -> t.pos().file().equals(file)).toList();
    }
}
