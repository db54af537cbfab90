package dev.octet.train;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What one logged training step reports. {@code extra} carries further named numbers, strings or
 * booleans (validation loss, loss scale, ...) and is written next to the fixed fields.
 */
public record StepMetrics(long step, double loss, double learningRate, double gradNorm,
        double tokensPerSecond, double elapsedSeconds, Map<String, Object> extra) {

    /** JSON names of the fixed fields; an extra field may not reuse one. */
    public static final Set<String> FIXED_FIELDS = Set.of("step", "loss", "lr", "grad_norm", "tokens_per_s", "elapsed_s");

    public StepMetrics {
        // Sorted, so each line lists its extra fields in the same order.
        extra = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(extra));
        for (var entry : extra.entrySet()) {
            if (FIXED_FIELDS.contains(entry.getKey())) {
                throw new IllegalArgumentException("extra field '" + entry.getKey() + "' clashes with a fixed field");
            }
            Object value = entry.getValue();
            if (!(value instanceof Number || value instanceof String || value instanceof Boolean)) {
                throw new IllegalArgumentException("extra field '" + entry.getKey() + "' must be a number, string or boolean, not "
                        + (value == null ? "null" : value.getClass().getName()));
            }
        }
    }

    public StepMetrics(long step, double loss, double learningRate, double gradNorm, double tokensPerSecond, double elapsedSeconds) {
        this(step, loss, learningRate, gradNorm, tokensPerSecond, elapsedSeconds, Map.of());
    }

    /** A copy with one more extra field. */
    public StepMetrics with(String name, Object value) {
        var more = new TreeMap<>(extra);
        more.put(name, value);
        return new StepMetrics(step, loss, learningRate, gradNorm, tokensPerSecond, elapsedSeconds, more);
    }
}
