package dev.octet.dsl.spec;

/** Learning-rate schedules. {@code lr} at step s of a run of {@code total} steps. */
public sealed interface Schedule {
    int warmup();

    /** Linear warmup, then cosine decay from the peak to {@code minLr} at the last step. */
    record Cosine(int warmup, double minLr) implements Schedule {}

    /** Warmup–stable–decay: linear warmup, constant, then linear decay to {@code minLr} over the last {@code decayFraction} of the run. */
    record WarmupStableDecay(int warmup, double decayFraction, double minLr) implements Schedule {}

    /** Linear warmup, then constant. */
    record Constant(int warmup) implements Schedule {}

    default double learningRate(double peak, int step, int total) {
        if (warmup() > 0 && step < warmup()) {
            return peak * (step + 1) / warmup();
        }
        return switch (this) {
            case Cosine c -> {
                int span = Math.max(1, total - warmup() - 1);
                double t = Math.min(1.0, (double) (step - warmup()) / span);
                yield c.minLr() + 0.5 * (peak - c.minLr()) * (1 + Math.cos(Math.PI * t));
            }
            case WarmupStableDecay w -> {
                int decaySteps = (int) Math.round(w.decayFraction() * total);
                int decayStart = total - decaySteps;
                if (step < decayStart || decaySteps == 0) {
                    yield peak;
                }
                double t = Math.min(1.0, (double) (step - decayStart + 1) / decaySteps);
                yield peak + (w.minLr() - peak) * t;
            }
            case Constant k -> peak;
        };
    }
}
