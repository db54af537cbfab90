package dev.octet.data.sft;

/** A conversation as tokens, and for each token whether it is learned (an assistant token). */
public record RenderedSample(int[] tokens, boolean[] lossTokens) {
    public RenderedSample {
        if (tokens.length != lossTokens.length) {
            throw new IllegalArgumentException("one loss flag per token");
        }
        tokens = tokens.clone();
        lossTokens = lossTokens.clone();
    }

    @Override public int[] tokens() { return tokens.clone(); }
    @Override public boolean[] lossTokens() { return lossTokens.clone(); }

    public int length() {
        return tokens.length;
    }
}
