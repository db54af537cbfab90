package dev.octet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code octet import ...}: models from other formats. */
@Command(name = "import", mixinStandardHelpOptions = true, description = "Import a model from another format.",
        subcommands = {ImportHfCommand.class})
final class ImportCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a format is needed (try: octet import hf --help)");
    }
}
