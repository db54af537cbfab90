package dev.octet.testing;

import dev.octet.data.TextCorpus;
import dev.octet.data.TokenDataset;
import dev.octet.data.TokenizedCorpus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The repository's example text (the Brown Corpus) as the tests train on it: tokenized once per test JVM, and
 * mapped once per vocabulary size (the most frequent GPT-2 tokens, as {@code octet train} maps them). The
 * datasets are immutable, so tests share them.
 */
public final class ExampleText {
    private ExampleText() {}

    private static final Map<Integer, TokenDataset> BY_VOCABULARY = new ConcurrentHashMap<>();

    /** The Brown Corpus in a {@code vocabulary}-sized vocabulary. */
    public static TokenDataset brown(int vocabulary) {
        return BY_VOCABULARY.computeIfAbsent(vocabulary, v -> TokenDataset.build(Corpus.BROWN, v));
    }

    /** Tokenized on first use. */
    private static final class Corpus {
        static final TokenizedCorpus BROWN = load();

        private static TokenizedCorpus load() {
            try {
                return TextCorpus.loadExample("brown").tokenize();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
