package dev.octet.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Losses of the steps this call ran, the held-out loss (absent when the run was stopped early), the step
 * the run reached, and the last checkpoint written.
 */
public record TrainingResult(List<Double> losses, OptionalDouble validationLoss, double tokensPerSecond, long completedSteps,
                             boolean stopped, Optional<Path> checkpoint) {
    public double first() {
        return losses.getFirst();
    }

    /** Mean of the last ten steps: one step's loss is noisy. */
    public double finalMean() {
        int n = Math.min(10, losses.size());
        double sum = 0;
        for (double l : losses.subList(losses.size() - n, losses.size())) {
            sum += l;
        }
        return sum / n;
    }
}
