package dev.octet.dsl.check;

import dev.octet.dsl.ast.Block;
import dev.octet.dsl.ast.SourceFile;
import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.diag.Suggestions;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** Checks all top-level blocks of a set of files together: names are global across the files of one run. */
public final class ProgramChecker {
    private static final List<String> KINDS = List.of("model", "recipe", "training");

    private ProgramChecker() {}

    public static Program check(List<SourceFile> files, Diagnostics diagnostics) {
        Map<String, ModelSpec> models = new LinkedHashMap<>();
        Map<String, RecipeSpec> recipes = new LinkedHashMap<>();
        List<TrainingSpec> trainings = new ArrayList<>();
        Map<String, SourcePos> defined = new LinkedHashMap<>();
        Map<TrainingSpec, Block> trainingBlocks = new LinkedHashMap<>();
        List<String> modelNamesSeen = new ArrayList<>();
        for (SourceFile f : files) {
            for (Block b : f.blocks()) {
                if ("model".equals(b.kind())) {
                    b.label().ifPresent(l -> modelNamesSeen.add(l.text()));
                }
            }
        }
        for (SourceFile f : files) {
            for (Block b : f.blocks()) {
                if (!KINDS.contains(b.kind())) {
                    diagnostics.error(b.pos(), "unknown definition '" + b.kind() + "'",
                            Suggestions.nearest(b.kind(), KINDS).map(s -> "did you mean '" + s + "'?")
                                    .orElse("a file holds model, recipe and training blocks"));
                    continue;
                }
                Optional<String> name = name(b, f, diagnostics);
                if (name.isEmpty()) {
                    continue;
                }
                String key = b.kind() + " " + name.get();
                if (defined.containsKey(key)) {
                    diagnostics.error(b.label().map(Block.Label::pos).orElse(b.pos()),
                            "duplicate definition of " + b.kind() + " '" + name.get() + "'", "first defined at " + defined.get(key));
                    continue;
                }
                defined.put(key, b.label().map(Block.Label::pos).orElse(b.pos()));
                if (b.target().isPresent() && !b.kind().equals("recipe")) {
                    diagnostics.error(b.target().get().pos(), "'for' is only for recipes", "write '" + b.kind() + " " + name.get() + " { ... }'");
                }
                switch (b.kind()) {
                    case "model" -> ModelChecker.check(b, name.get(), diagnostics).ifPresent(m -> models.put(m.name(), m));
                    case "recipe" -> {
                        b.target().ifPresent(t -> {
                            if (!modelNamesSeen.contains(t.text())) {
                                diagnostics.error(t.pos(), "recipe '" + name.get() + "' is for model '" + t.text() + "', which does not exist",
                                        Suggestions.nearest(t.text(), modelNamesSeen).map(s -> "did you mean '" + s + "'?")
                                                .orElse(modelNamesSeen.isEmpty() ? "no model is defined in the files checked; import the model's file"
                                                        : "models: " + String.join(", ", modelNamesSeen)));
                            }
                        });
                        RecipeChecker.check(b, name.get(), diagnostics).ifPresent(r -> recipes.put(r.name(), r));
                    }
                    case "training" -> TrainingChecker.check(b, name.get(), diagnostics).ifPresent(t -> {
                        trainings.add(t);
                        trainingBlocks.put(t, b);
                    });
                    default -> throw new IllegalStateException(b.kind());
                }
            }
        }
        for (RecipeSpec r : recipes.values()) {
            r.forModel().flatMap(m -> Optional.ofNullable(models.get(m)))
                    .ifPresent(m -> RecipeFit.check(m, r, OptionalInt.empty(), r.pos(), diagnostics));
        }
        for (TrainingSpec t : trainings) {
            resolve(t, trainingBlocks.get(t), models, recipes, modelNamesSeen, diagnostics);
        }
        return new Program(files, models, recipes, trainings);
    }

    private static void resolve(TrainingSpec t, Block b, Map<String, ModelSpec> models, Map<String, RecipeSpec> recipes,
                                List<String> modelNamesSeen, Diagnostics diagnostics) {
        SourcePos modelPos = valuePos(b, "model");
        ModelSpec model = models.get(t.model());
        if (model == null && !modelNamesSeen.contains(t.model())) {
            diagnostics.error(modelPos, "unknown model '" + t.model() + "'",
                    Suggestions.nearest(t.model(), modelNamesSeen).map(s -> "did you mean '" + s + "'?")
                            .orElse("define it in this file or import the file that does"));
        }
        Optional<RecipeSpec> recipe = t.recipe().flatMap(n -> Optional.ofNullable(recipes.get(n)));
        if (t.recipe().isPresent() && recipe.isEmpty() && !recipes.containsKey(t.recipe().get())) {
            diagnostics.error(valuePos(b, "recipe"), "unknown recipe '" + t.recipe().get() + "'",
                    Suggestions.nearest(t.recipe().get(), recipes.keySet()).map(s -> "did you mean '" + s + "'?")
                            .orElse("import the file that defines it, e.g. import \"recipes/infir2.octet\""));
        }
        if (model == null) {
            return;
        }
        if (t.seqLen() > model.config().maxSeq()) {
            diagnostics.error(valuePos(b, "seq_len"), "seq_len = " + t.seqLen() + " exceeds the max_seq = "
                    + model.config().maxSeq() + " of model '" + model.name() + "'", "use seq_len <= " + model.config().maxSeq());
        }
        recipe.ifPresent(r -> {
            r.forModel().filter(m -> !m.equals(model.name())).ifPresent(m ->
                    diagnostics.error(valuePos(b, "recipe"), "recipe '" + r.name() + "' is for model '" + m + "', not '" + model.name() + "'",
                            "use a recipe without 'for', or one for this model"));
            RecipeFit.check(model, r, OptionalInt.of(t.microBatch() * t.seqLen()), valuePos(b, "recipe"), diagnostics);
        });
    }

    private static SourcePos valuePos(Block b, String key) {
        return b.items().stream()
                .filter(i -> i instanceof dev.octet.dsl.ast.Assignment a && a.name().equals(key))
                .map(i -> ((dev.octet.dsl.ast.Assignment) i).value().pos())
                .findFirst().orElse(b.pos());
    }

    private static Optional<String> name(Block b, SourceFile f, Diagnostics diagnostics) {
        if (b.label().isPresent() && !b.label().get().isInteger()) {
            return Optional.of(b.label().get().text());
        }
        if (b.label().isPresent()) {
            diagnostics.error(b.label().get().pos(), "a " + b.kind() + " name must start with a letter", "e.g. " + b.kind() + " tiny { ... }");
            return Optional.empty();
        }
        if (b.kind().equals("training")) {
            String stem = f.path().getFileName().toString().replaceFirst("\\.octet$", "");
            return Optional.of(stem);
        }
        diagnostics.error(b.pos(), "a " + b.kind() + " needs a name", "write '" + b.kind() + " NAME { ... }'");
        return Optional.empty();
    }
}
