package dev.octet.eval;

import java.util.List;

/** Exact-match accuracy on the final answer over a test set, with every example and the decoding speed. */
public record AnswerReport(int conversations, int correct, long generatedTokens, double seconds, List<AnswerExample> examples) {
    public AnswerReport {
        examples = List.copyOf(examples);
    }

    public double accuracy() {
        return conversations == 0 ? 0 : (double) correct / conversations;
    }

    public double tokensPerSecond() {
        return seconds == 0 ? 0 : generatedTokens / seconds;
    }
}
