package dev.octet.cli;

import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;

/** Loading .octet files for a command: missing files are usage errors, bad contents are diagnostics. */
final class Inputs {
    private Inputs() {}

    static void requireFiles(CommandLine.Model.CommandSpec spec, List<Path> files) {
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no such file: " + f);
            }
        }
    }

    /** The checked program, or empty when the files could not be analysed at all (the diagnostics say why). */
    static Optional<Program> load(List<Path> files, Diagnostics diagnostics) {
        try {
            return Optional.of(ProgramLoader.load(files, diagnostics));
        } catch (StackOverflowError e) {
            diagnostics.error(new SourcePos(files.getFirst().toString(), 1, 1, 1),
                    "the file is nested too deeply to analyse", "split long expressions into several named steps");
            return Optional.empty();
        }
    }
}
