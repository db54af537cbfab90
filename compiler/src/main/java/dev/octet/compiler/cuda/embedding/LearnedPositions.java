package dev.octet.compiler.cuda.embedding;

/**
 * A learned absolute position table (GPT-2's wpe) {@code [maxSeq, dim]}: token row {@code t} of a batch of
 * sequences of {@code seqLen} tokens has position {@code t mod seqLen}.
 */
public record LearnedPositions(int seqLen, int maxSeq) {
    public LearnedPositions {
        if (seqLen < 1 || maxSeq < 1) {
            throw new IllegalArgumentException("sequence length and table rows must be positive: " + seqLen + ", " + maxSeq);
        }
        if (seqLen > maxSeq) {
            throw new IllegalArgumentException("sequence length " + seqLen + " exceeds the position table's " + maxSeq + " rows");
        }
    }
}
