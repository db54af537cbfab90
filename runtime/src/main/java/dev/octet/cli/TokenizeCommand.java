package dev.octet.cli;

import dev.octet.data.jsonl.BadRecord;
import dev.octet.data.jsonl.BadRecordException;
import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.tokenfile.TokenFile;
import dev.octet.data.tokenfile.TokenFileBuilder;
import dev.octet.data.tokenizer.Tokenizer;
import dev.octet.data.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code octet data tokenize INPUT... --tokenizer T --out FILE.tok}: text to a token file for training. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize text into a token file (.tok) that training memory-maps.",
                "INPUT: .txt (documents separated by two or more empty lines), .gz of one, or .jsonl/.jsonl.gz with a \"text\" field per record.",
                "Each document is followed by the tokenizer's end-of-document token."})
final class TokenizeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "INPUT", arity = "1..*", description = "text, .gz or .jsonl files")
    List<Path> inputs;

    @Option(names = "--tokenizer", required = true, paramLabel = "T", description = "gpt2, cl100k, or PATH/tokenizer.json (Hugging Face)")
    String tokenizer;

    @Option(names = "--out", required = true, paramLabel = "FILE.tok", description = "the token file to write")
    Path out;

    @Option(names = "--force", description = "write --out even when it exists and is not a token file")
    boolean force;

    @Option(names = "--on-bad-record", paramLabel = "stop|skip", defaultValue = "stop",
            description = "a bad JSONL record stops with its file:line (stop, the default) or is skipped and counted (skip)")
    String onBadRecord;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Inputs.requireFiles(spec, inputs);
        BadRecordPolicy policy = BadRecordPolicyOption.parse(spec, onBadRecord);
        Optional<Path> input = OutputPaths.sameAsAnInput(out, inputs);
        if (input.isPresent()) {
            System.err.println(out + ": error: is also an input (" + input.get() + "); write the token file elsewhere, e.g. --out "
                    + out.getFileName() + ".tok");
            return ExitCodes.USAGE;
        }
        if (Files.exists(out) && !force && !TokenFile.looksLikeOne(out)) {
            System.err.println(out + ": error: exists and is not a token file; choose another --out, or --force to replace it");
            return ExitCodes.USAGE;
        }
        try (Tokenizer t = Tokenizers.open(tokenizer)) {
            long total = TokenFileBuilder.inputBytes(inputs);
            TokenFileBuilder.Report report;
            try (ProgressBar bar = progressBar(total)) {
                LongConsumer progress = bar == null ? done -> {} : bar::stepTo;
                report = TokenFileBuilder.build(inputs, t, out, policy, progress);
            }
            var h = report.header();
            System.out.printf(Locale.ROOT, "octet: %s: %,d tokens in %,d documents, tokenizer %s, vocabulary %,d (%s)%n",
                    out, h.tokenCount(), h.documentCount(), h.tokenizer(), h.vocabularySize(), h.dtype().name().toLowerCase(Locale.ROOT));
            reportSkipped(report.skipped());
            return ExitCodes.OK;
        } catch (BadRecordException e) {
            System.err.println(e.getMessage());
            return ExitCodes.INVALID_INPUT;
        } catch (IOException | RuntimeException e) {
            System.err.println("octet: data tokenize: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        }
    }

    /** Every skipped record is counted; the first few are listed so the user can look. */
    static void reportSkipped(List<BadRecord> skipped) {
        if (skipped.isEmpty()) {
            return;
        }
        System.err.printf(Locale.ROOT, "octet: skipped %,d bad record%s:%n", skipped.size(), skipped.size() == 1 ? "" : "s");
        skipped.stream().limit(10).forEach(b -> System.err.println("  " + b));
        if (skipped.size() > 10) {
            System.err.printf(Locale.ROOT, "  ... and %,d more%n", skipped.size() - 10);
        }
    }

    /** A bar on an interactive terminal; none where carriage returns would garble a log. */
    private static ProgressBar progressBar(long totalBytes) {
        var console = System.console();
        if (console == null || !console.isTerminal()) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("tokenize").setInitialMax(totalBytes).setUnit(" MiB", 1 << 20)
                .setUpdateIntervalMillis(250).showSpeed().build();
    }
}
