package dev.octet.data.packing;

import dev.octet.data.Batch;
import java.util.List;

/**
 * One training row before the shift: {@code length} = seq_len + 1 tokens, the document (or conversation)
 * each belongs to, and whether each token counts when it is a target.
 *
 * <p>The row becomes inputs {@code tokens[0..T)} and targets {@code tokens[1..T]}. Target t counts only if
 * {@code lossTokens[t+1]} and tokens t and t+1 are in the same document: a model is never asked to guess
 * the first token of a document from the one before it. So after an end-of-document token (the last token
 * of its document) the target is masked out, while the end-of-document token itself is learned as the
 * target of its document's last text token.
 */
public record PackedSequence(int[] tokens, int[] documentIds, boolean[] lossTokens) {

    public PackedSequence {
        if (tokens.length < 2 || documentIds.length != tokens.length || lossTokens.length != tokens.length) {
            throw new IllegalArgumentException("a packed sequence needs at least 2 tokens and one document id and loss flag per token");
        }
        tokens = tokens.clone();
        documentIds = documentIds.clone();
        lossTokens = lossTokens.clone();
    }

    @Override public int[] tokens() { return tokens.clone(); }
    @Override public int[] documentIds() { return documentIds.clone(); }
    @Override public boolean[] lossTokens() { return lossTokens.clone(); }

    public int length() {
        return tokens.length;
    }

    /** Whether target {@code t} (the token at t+1) counts in the loss; see the class comment. */
    public boolean targetCounts(int t) {
        return lossTokens[t + 1] && documentIds[t] == documentIds[t + 1];
    }

    /** A batch of these rows, all of the same length. */
    public static Batch batchOf(List<PackedSequence> rows) {
        int seqLen = rows.getFirst().length() - 1;
        int n = rows.size() * seqLen;
        int[] inputs = new int[n];
        int[] targets = new int[n];
        int[] documents = new int[n];
        float[] mask = new float[n];
        for (int r = 0; r < rows.size(); r++) {
            PackedSequence row = rows.get(r);
            if (row.length() != seqLen + 1) {
                throw new IllegalArgumentException("rows of " + row.length() + " and " + (seqLen + 1) + " tokens in one batch");
            }
            System.arraycopy(row.tokens, 0, inputs, r * seqLen, seqLen);
            System.arraycopy(row.tokens, 1, targets, r * seqLen, seqLen);
            System.arraycopy(row.documentIds, 0, documents, r * seqLen, seqLen);
            for (int t = 0; t < seqLen; t++) {
                mask[r * seqLen + t] = row.targetCounts(t) ? 1f : 0f;
            }
        }
        return new Batch(rows.size(), seqLen, inputs, targets, documents, mask);
    }
}
