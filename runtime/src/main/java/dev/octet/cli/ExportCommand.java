package dev.octet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code octet export ...}: models to other formats. */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Export a model to another format.",
        subcommands = {ExportHfCommand.class})
final class ExportCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a format is needed (try: octet export hf --help)");
    }
}
