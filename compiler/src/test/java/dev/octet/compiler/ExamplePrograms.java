package dev.octet.compiler;

import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.TrainingSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Loads the example models of the repository for compiler tests. */
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

    public static Program load(String file) {
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(List.of(examples().resolve(file)), d);
        if (d.hasErrors()) {
            throw new IllegalStateException("example " + file + " has errors: " + d);
        }
        return p;
    }

    public static TrainingSpec training(Program p) {
        return p.trainings().getFirst();
    }
}
