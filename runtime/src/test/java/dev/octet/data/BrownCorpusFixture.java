package dev.octet.data;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The shipped example corpus, loaded and tokenized once for all tests of this package. */
public final class BrownCorpusFixture {

    private BrownCorpusFixture() {}

    private static final class Holder {
        static final TextCorpus TEXT;
        static final TokenizedCorpus TOKENS;

        static {
            try {
                TEXT = TextCorpus.loadExample("brown");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            TOKENS = TEXT.tokenize();
        }
    }

    static TextCorpus text() {
        return Holder.TEXT;
    }

    public static TokenizedCorpus tokens() {
        return Holder.TOKENS;
    }
}
