package dev.octet.gpu.exec;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.spec.Program;
import dev.octet.testing.ExampleFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** The repository's example models and recipes, found from the repository root or a module directory. */
final class ExampleModels {
    private ExampleModels() {}

    /** Loads {@code examples/<file>} plus the named files under examples/recipes. */
    static Program load(String file, String... recipes) {
        return loadWithRecipes(examples().resolve(file), recipes);
    }

    /**
     * Loads {@code examples/<file>} as {@code edit} rewrites its text (written to a temporary directory, its
     * imports pointed back at the examples), plus the named recipes.
     */
    static Program loadEdited(String file, UnaryOperator<String> edit, String... recipes) {
        Path examples = examples();
        try {
            Path copy = Files.createTempDirectory("octet-example").resolve(file);
            Files.writeString(copy, edit.apply(Files.readString(examples.resolve(file)))
                    .replace("import \"", "import \"" + examples.toAbsolutePath() + "/"));
            return loadWithRecipes(copy, recipes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Program loadWithRecipes(Path model, String... recipes) {
        List<Path> roots = new ArrayList<>(List.of(model));
        for (String r : recipes) {
            roots.add(examples().resolve("recipes").resolve(r + ".octet"));
        }
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(roots, d);
        if (d.hasErrors()) {
            throw new AssertionError(DiagnosticPrinter.render(d));
        }
        return p;
    }

    /** The tiny example with its training block, under {@code recipe} (infir2 or bf16). */
    static StepPlan tinyPlan(String recipe) {
        Program p = load("tiny.octet", recipe);
        return Lowering.compile(CompileTarget.of(p.model("tiny").orElseThrow(), p.recipe(recipe).orElseThrow(),
                p.trainings().getFirst()), Lowering.QUIET);
    }

    static Path examples() {
        return ExampleFiles.dir();
    }
}
