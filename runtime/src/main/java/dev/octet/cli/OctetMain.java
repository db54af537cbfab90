package dev.octet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code octet} command line. Exit codes: 0 success, 1 invalid input, 2 usage error, 3 internal error,
 * 4 out of memory (JVM heap), 5 out of device memory (the GPU's), 6 another rank of a data-parallel run stopped.
 */
@Command(name = "octet", mixinStandardHelpOptions = true, versionProvider = OctetVersion.class,
        description = "Octet: an FP8 training compiler for transformers.",
        subcommands = {CheckCommand.class, CompileCommand.class, TrainCommand.class, BenchCommand.class, TuneCommand.class, EvalCommand.class, DataCommand.class, ReportCommand.class,
                ImportCommand.class, ExportCommand.class,
                CommandLine.HelpCommand.class})
public final class OctetMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed (try: octet check examples/tiny.octet)");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code, without exiting: what tests call. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new OctetMain());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            var oom = HeapErrors.cause(e);
            if (oom.isPresent()) {
                commandLine.getErr().println("octet: error: " + HeapErrors.describe(oom.get()));
                return ExitCodes.OUT_OF_MEMORY;
            }
            var device = DeviceMemoryErrors.describe(e);
            if (device.isPresent()) {
                commandLine.getErr().println("octet: error: " + device.get());
                return ExitCodes.DEVICE_OUT_OF_MEMORY;
            }
            var io = FileErrors.ioCause(e);
            if (io.isPresent()) {
                commandLine.getErr().println("octet: error: " + FileErrors.describe(io.get()));
                if (System.getenv("OCTET_DEBUG") != null) {
                    e.printStackTrace(commandLine.getErr());
                }
                return ExitCodes.INVALID_INPUT;
            }
            commandLine.getErr().println("octet: internal error: " + e);
            if (System.getenv("OCTET_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            } else {
                commandLine.getErr().println("octet: set OCTET_DEBUG=1 to see where");
            }
            return ExitCodes.INTERNAL;
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // An Error passes picocli's handler; the heap it freed on the way up is enough to say so in one line.
            cli.getErr().println("octet: error: " + HeapErrors.describe(e));
            return ExitCodes.OUT_OF_MEMORY;
        }
    }
}
