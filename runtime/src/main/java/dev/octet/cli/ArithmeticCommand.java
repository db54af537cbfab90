package dev.octet.cli;

import dev.octet.data.arithmetic.ArithmeticTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code octet data arithmetic --out DIR}: the arithmetic word-problem SFT task and its tokenizer. */
@Command(name = "arithmetic", mixinStandardHelpOptions = true,
        description = {"Generate arithmetic word problems with worked answers as SFT conversations:",
                "DIR/train.jsonl, DIR/test.jsonl (no problem of one is in the other) and DIR/tokenizer.json.",
                "The same seed and sizes give the same files, byte for byte."})
final class ArithmeticCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory for the three files")
    Path out;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--train", paramLabel = "N", defaultValue = "20000", description = "training problems (default ${DEFAULT-VALUE})")
    int train;

    @Option(names = "--test", paramLabel = "M", defaultValue = "500", description = "held-out problems (default ${DEFAULT-VALUE})")
    int test;

    @Option(names = "--force", description = "replace train.jsonl, test.jsonl or tokenizer.json in DIR when they hold something else")
    boolean force;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (train < 1 || test < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--train and --test must be at least 1");
        }
        ArithmeticTask.Written w;
        try {
            w = ArithmeticTask.write(out, seed, train, test, force);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            System.err.println("octet: error: " + FileErrors.describe(e));
            return ExitCodes.USAGE;
        }
        System.out.printf(Locale.ROOT, "octet: %,d training problems in %s, %,d held out in %s; tokenizer %s (%d ids)%n",
                w.trainProblems(), w.train(), w.testProblems(), w.test(), w.tokenizer(), w.vocabularySize());
        return ExitCodes.OK;
    }
}
