package dev.octet.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Losses of the steps this call ran and applied (a skipped step's loss is left out), the held-out loss
 * (absent when the run was stopped early), the step the run reached, the last checkpoint written, and the
 * steps skipped for non-finite values.
 */
public record TrainingResult(List<Double> losses, OptionalDouble validationLoss, double tokensPerSecond, long completedSteps,
                             boolean stopped, Optional<Path> checkpoint, long skippedSteps) {
    /** The first applied step's loss; NaN when every step was skipped. */
    public double first() {
        return losses.isEmpty() ? Double.NaN : losses.getFirst();
    }

    /** Mean of the last ten steps: one step's loss is noisy. NaN when every step was skipped. */
    public double finalMean() {
        if (losses.isEmpty()) {
            return Double.NaN;
        }
        int n = Math.min(10, losses.size());
        double sum = 0;
        for (double l : losses.subList(losses.size() - n, losses.size())) {
            sum += l;
        }
        return sum / n;
    }
}
