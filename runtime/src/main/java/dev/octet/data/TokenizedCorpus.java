package dev.octet.data;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * GPT-2 token ids of a corpus, documents laid end to end, each ending with the end-of-text token.
 * The arrays never leave this class, so it is immutable.
 */
public final class TokenizedCorpus {

    private final int[] tokens;
    /** documentStarts[d] is the first position of document d; the last entry is tokens.length. */
    private final int[] documentStarts;

    private TokenizedCorpus(int[] tokens, int[] documentStarts) {
        this.tokens = tokens;
        this.documentStarts = documentStarts;
    }

    /** Concatenates {@code documents}, appending {@code endOfDocument} to each. */
    public static TokenizedCorpus of(int[][] documents, int endOfDocument) {
        int[] starts = new int[documents.length + 1];
        for (int d = 0; d < documents.length; d++) {
            starts[d + 1] = starts[d] + documents[d].length + 1;
        }
        int[] tokens = new int[starts[documents.length]];
        for (int d = 0; d < documents.length; d++) {
            System.arraycopy(documents[d], 0, tokens, starts[d], documents[d].length);
            tokens[starts[d + 1] - 1] = endOfDocument;
        }
        return new TokenizedCorpus(tokens, starts);
    }

    public int tokenCount() {
        return tokens.length;
    }

    public int documentCount() {
        return documentStarts.length - 1;
    }

    public int token(int position) {
        return tokens[position];
    }

    /** The tokens of one document, its end-of-document token included. */
    public int[] document(int index) {
        return Arrays.copyOfRange(tokens, documentStarts[index], documentStarts[index + 1]);
    }

    public IntStream tokens() {
        return Arrays.stream(tokens);
    }
}
