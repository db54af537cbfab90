package dev.octet.data;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * One side of a train/validation split: the dense ids of its documents laid end to end, and for each
 * position the index (in the whole corpus) of the document it belongs to.
 */
public final class TokenSplit {

    private final int[] tokens;
    private final int[] documentIds;
    private final int documentCount;

    TokenSplit(int[] tokens, int[] documentIds, int documentCount) {
        if (tokens.length != documentIds.length) {
            throw new IllegalArgumentException("tokens and document ids differ in length");
        }
        this.tokens = tokens;
        this.documentIds = documentIds;
        this.documentCount = documentCount;
    }

    public int tokenCount() {
        return tokens.length;
    }

    public int documentCount() {
        return documentCount;
    }

    public int token(int position) {
        return tokens[position];
    }

    public int documentId(int position) {
        return documentIds[position];
    }

    public IntStream tokens() {
        return Arrays.stream(tokens);
    }

    /** Copies {@code length} tokens and their document ids from {@code position} into the arrays given. */
    void copyWindow(int position, int length, int[] tokensOut, int[] documentIdsOut, int outOffset) {
        System.arraycopy(tokens, position, tokensOut, outOffset, length);
        System.arraycopy(documentIds, position, documentIdsOut, outOffset, length);
    }
}
