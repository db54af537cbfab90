package dev.octet.report;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The figures a run ended with, for the report's table: absent where the run did not record them.
 * {@code trainLoss} is the mean of the last ten logged losses, as noisy single steps would mislead; device memory
 * is recorded by GPU runs only.
 */
public record FinalFigures(long steps, OptionalDouble trainLoss, OptionalDouble evalLoss, OptionalDouble tokensPerSecond,
                           OptionalDouble elapsedSeconds, OptionalDouble peakHeapMb, OptionalDouble peakDeviceMb,
                           long skippedSteps,
                           Optional<HealthSample> worstSnr, OptionalDouble maxSaturated) {

    public static FinalFigures of(RunHistory run) {
        List<Point> loss = run.series("loss");
        long steps = loss.stream().mapToLong(Point::step).max().orElse(-1) + 1;
        OptionalDouble trainLoss = loss.subList(Math.max(0, loss.size() - 10), loss.size()).stream()
                .mapToDouble(Point::value).average();
        long lastHealthStep = run.health().stream().mapToLong(HealthSample::step).max().orElse(-1);
        List<HealthSample> lastHealth = run.health().stream().filter(h -> h.step() == lastHealthStep).toList();
        return new FinalFigures(steps, trainLoss, last(run.evalLoss()), last(run.series("tokens_per_s")),
                last(run.series("elapsed_s")), run.series("heap_mb").stream().mapToDouble(Point::value).max(),
                run.series("device_mem_mb").stream().mapToDouble(Point::value).max(),
                (long) last(run.series("skipped_steps")).orElse(0),
                lastHealth.stream().min(Comparator.comparingDouble(HealthSample::snrDb)),
                lastHealth.stream().mapToDouble(HealthSample::saturated).max());
    }

    private static OptionalDouble last(List<Point> points) {
        return points.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(points.getLast().value());
    }
}
