package dev.octet.compiler;

import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Loads the example models and recipes of the repository for compiler tests. */
public final class ExamplePrograms {
    private ExamplePrograms() {}

    public static Path examples() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("examples/recipes"))) {
                return p.resolve("examples");
            }
        }
        throw new IllegalStateException("no examples/ above " + Path.of("").toAbsolutePath());
    }

    /** Every example model file (tiny.octet, gpt2-124m.octet, ...). */
    public static List<String> modelFiles() {
        try (Stream<Path> s = Files.list(examples())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".octet")).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every example recipe name (bf16, infir2, ...). */
    public static List<String> recipeNames() {
        try (Stream<Path> s = Files.list(examples().resolve("recipes"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".octet"))
                    .map(n -> n.substring(0, n.length() - ".octet".length())).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Program loadWithRecipe(String modelFile, String recipeName) {
        List<Path> roots = new ArrayList<>(List.of(examples().resolve(modelFile)));
        roots.add(examples().resolve("recipes").resolve(recipeName + ".octet"));
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(roots, d);
        if (d.hasErrors()) {
            throw new IllegalStateException("example " + modelFile + " has errors:\n" + DiagnosticPrinter.render(d));
        }
        return p;
    }

    /** The recipe a recipe file defines (file names use '-', recipe names '_'). */
    public static RecipeSpec recipe(Program p, String recipeName) {
        return p.recipe(recipeName).or(() -> p.recipe(recipeName.replace('-', '_'))).orElseThrow();
    }

    public static TrainingSpec training(Program p) {
        return p.trainings().getFirst();
    }

    /**
     * The training block {@code modelFile} (loaded by {@link #loadWithRecipe}) itself defines, not one of a file it
     * imports; the first one where the file defines none.
     */
    public static TrainingSpec training(Program p, String modelFile) {
        return p.trainingsIn(examples().resolve(modelFile).toString()).stream().findFirst().orElse(training(p));
    }
}
