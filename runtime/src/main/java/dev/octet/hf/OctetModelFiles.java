package dev.octet.hf;

import dev.octet.dsl.check.ProgramChecker;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.Diagnostic;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.parse.SourceParser;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.TrainingSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Finding the one model a .octet file is about, for commands that take a model rather than a training. */
public final class OctetModelFiles {
    private OctetModelFiles() {}

    /**
     * The model of {@code file}: the only one it defines, else the model of its training block, else the only one
     * it imports.
     */
    public static ModelSpec load(Path file) throws InteropException {
        if (!Files.isRegularFile(file)) {
            throw new InteropException(file, "no such model file");
        }
        Diagnostics diagnostics = new Diagnostics();
        Program program = ProgramLoader.load(List.of(file), diagnostics);
        firstError(file, diagnostics);
        String here = file.toString();
        List<ModelSpec> defined = program.models().values().stream().filter(m -> m.pos().file().equals(here)).toList();
        if (defined.size() == 1) {
            return defined.getFirst();
        }
        Optional<TrainingSpec> training = program.trainingsIn(here).stream().findFirst();
        if (training.isPresent()) {
            return program.model(training.get().model()).orElseThrow();
        }
        if (program.models().size() == 1) {
            return program.models().values().iterator().next();
        }
        throw new InteropException(file, "defines " + program.models().size() + " models and no training block; "
                + "name a file with one model");
    }

    /** Parses and checks model source held in memory (what an import is about to write) and returns its model. */
    static ModelSpec parse(Path file, String text, String name) throws InteropException {
        Diagnostics diagnostics = new Diagnostics();
        Program program = ProgramChecker.check(List.of(SourceParser.parse(file, text, diagnostics)), diagnostics);
        firstError(file, diagnostics);
        return program.model(name).orElseThrow();
    }

    private static void firstError(Path file, Diagnostics diagnostics) throws InteropException {
        if (diagnostics.hasErrors()) {
            Diagnostic d = diagnostics.all().stream().filter(x -> x.severity() == Diagnostic.Severity.ERROR)
                    .findFirst().orElseThrow();
            throw new InteropException(file, "line " + d.pos().line() + ": " + d.message());
        }
    }
}
