package dev.octet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code octet data ...}: preparing training data. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Prepare training data.",
        subcommands = {TokenizeCommand.class, ArithmeticCommand.class, EnglishCommand.class})
final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a data command is needed (try: octet data tokenize --help)");
    }
}
