package dev.octet.cli;

import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * Finds a recipe given on the command line: a file path, or a name looked up in {@code recipes/} beside the
 * model file, then in Octet's own {@code examples/recipes/}. Names may be written with '-' or '_'.
 */
final class RecipeFiles {
    static final String DEFAULT_RECIPE = "infir2";

    private RecipeFiles() {}

    static Path resolve(CommandLine.Model.CommandSpec spec, String recipe, Path modelFile) {
        Path asPath = Path.of(recipe);
        if (Files.isRegularFile(asPath)) {
            return asPath;
        }
        List<Path> dirs = searchDirs(modelFile);
        for (Path dir : dirs) {
            for (String n : List.of(recipe, recipe.replace('_', '-'), recipe.replace('-', '_'))) {
                Path p = dir.resolve(n + ".octet");
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
        }
        throw new CommandLine.ParameterException(spec.commandLine(), "no recipe '" + recipe + "': not a file, and not in "
                + String.join(", ", dirs.stream().map(Path::toString).toList()) + " (known: " + String.join(", ", known(dirs)) + ")");
    }

    /** The recipe a recipe file defines: its only one, or the one named like the file. */
    static Optional<RecipeSpec> definedIn(Program program, Path file, String requested) {
        List<RecipeSpec> inFile = program.recipes().values().stream().filter(r -> r.pos().file().equals(file.toString())).toList();
        if (inFile.size() == 1) {
            return Optional.of(inFile.getFirst());
        }
        String name = Path.of(requested).getFileName().toString().replaceFirst("\\.octet$", "").replace('-', '_');
        return program.recipe(name);
    }

    /** A recipe shipped with Octet, checked, when it can be found. */
    static Optional<RecipeSpec> builtin(String name) {
        Path dir = octetHome().resolve("examples").resolve("recipes");
        Path p = dir.resolve(name + ".octet");
        if (!Files.isRegularFile(p)) {
            return Optional.empty();
        }
        Diagnostics d = new Diagnostics();
        return Inputs.load(List.of(p), d).filter(x -> !d.hasErrors()).flatMap(x -> x.recipe(name));
    }

    /** Octet's installation directory: set by the launcher, else the working directory. */
    static Path octetHome() {
        return Path.of(System.getProperty("octet.home", "."));
    }

    private static List<Path> searchDirs(Path modelFile) {
        List<Path> dirs = new ArrayList<>();
        Path parent = modelFile.toAbsolutePath().getParent();
        if (parent != null) {
            dirs.add(parent.resolve("recipes").normalize());
        }
        Path shipped = octetHome().toAbsolutePath().resolve("examples").resolve("recipes").normalize();
        if (!dirs.contains(shipped)) {  // a model file among Octet's own examples: one folder, named once
            dirs.add(shipped);
        }
        return dirs;
    }

    private static List<String> known(List<Path> dirs) {
        List<String> names = new ArrayList<>();
        for (Path d : dirs) {
            if (Files.isDirectory(d)) {
                try (Stream<Path> s = Files.list(d)) {
                    s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".octet"))
                            .map(n -> n.substring(0, n.length() - 6)).filter(n -> !names.contains(n)).forEach(names::add);
                } catch (java.io.IOException e) {
                    // an unreadable directory just contributes no names to the message
                }
            }
        }
        return names;
    }
}
