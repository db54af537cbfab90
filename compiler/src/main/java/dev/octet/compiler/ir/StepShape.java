package dev.octet.compiler.ir;

/**
 * What one step program is specialised for: the model and recipe, the micro-batch (batch × seq tokens), and
 * how many micro-batches one optimizer step accumulates.
 */
public record StepShape(String model, String recipe, int batch, int seq, int accumulation) {
    public int tokens() {
        return batch * seq;
    }
}
