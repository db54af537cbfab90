package dev.octet.cpu.decode;

/** Greedy decoding: feed the prompt, then each most likely next token, until the stop token or a length limit. */
public final class GreedyDecoder {
    private GreedyDecoder() {}

    /** The tokens generated after the prompt (the stop token left out), and whether the stop token ended them. */
    public record Generation(int[] tokens, boolean stopped) {
        public Generation {
            tokens = tokens.clone();
        }

        @Override
        public int[] tokens() {
            return tokens.clone();
        }
    }

    /**
     * Generates at most {@code maxNewTokens} tokens after {@code prompt}, fewer when the model's context
     * ({@code max_seq}) fills up first. Starts a fresh sequence: whatever {@code forward} held is dropped.
     */
    public static Generation generate(IncrementalForward forward, int[] prompt, int stopToken, int maxNewTokens, int maxSeq) {
        forward.reset();
        java.util.stream.IntStream.Builder out = java.util.stream.IntStream.builder();
        double[] logits = forward.append(prompt);
        for (int produced = 0; produced < maxNewTokens; produced++) {
            int next = argmax(logits);
            if (next == stopToken) {
                return new Generation(out.build().toArray(), true);
            }
            out.add(next);
            if (forward.length() >= maxSeq || produced + 1 == maxNewTokens) {
                break;
            }
            logits = forward.append(next);
        }
        return new Generation(out.build().toArray(), false);
    }

    /** The index of the largest value; the lowest such index on a tie, so decoding is deterministic. */
    public static int argmax(double[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
