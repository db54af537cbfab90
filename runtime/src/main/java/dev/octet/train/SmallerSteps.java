package dev.octet.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Steps that would fit when the planned one does not, found by re-planning: the largest micro-batch that
 * divides global_batch (so the step's tokens stay the same) with the recipe's recomputation as it is, and, where
 * the recipe does not recompute every activation already, the largest with recompute = [norm, activation] when
 * that allows a larger micro-batch. Memory grows with the micro-batch, so each is a binary search over the
 * divisors, a few compilations. When none fits, {@code smallest} is the least the step can take: micro_batch = 1,
 * every activation recomputed. {@code recomputes}: the recipe already recomputes every activation it can.
 */
public record SmallerSteps(List<StepCandidate> fitting, Optional<StepCandidate> smallest) {
    public SmallerSteps {
        fitting = List.copyOf(fitting);
    }

    public static SmallerSteps search(int microBatch, int globalBatch, boolean recomputes, long freeBytes,
                                      StepReplanner replanner) {
        if (microBatch < 1 || globalBatch % microBatch != 0) {
            throw new IllegalArgumentException("micro_batch " + microBatch + " does not divide global_batch " + globalBatch);
        }
        Map<List<Object>, StepCandidate> planned = new HashMap<>();
        Planner at = (mb, rc) -> planned.computeIfAbsent(List.of(mb, rc),
                k -> new StepCandidate(mb, rc, replanner.plan(mb, rc).bytesAfterContext()));
        List<Integer> smaller = new ArrayList<>();
        List<Integer> upToCurrent = new ArrayList<>();
        for (int d = 1; d <= microBatch; d++) {
            if (globalBatch % d == 0) {
                upToCurrent.add(d);
                if (d < microBatch) {
                    smaller.add(d);
                }
            }
        }
        List<StepCandidate> fitting = new ArrayList<>();
        StepCandidate asIs = largestFitting(smaller, false, freeBytes, at);
        if (asIs != null) {
            fitting.add(asIs);
        }
        if (!recomputes) {
            StepCandidate recomputing = largestFitting(upToCurrent, true, freeBytes, at);
            if (recomputing != null && (asIs == null || recomputing.microBatch() > asIs.microBatch())) {
                fitting.add(recomputing);
            }
        }
        return new SmallerSteps(fitting, fitting.isEmpty() ? Optional.of(at.plan(1, !recomputes)) : Optional.empty());
    }

    private interface Planner {
        StepCandidate plan(int microBatch, boolean recompute);
    }

    /** The largest of {@code sizes} (ascending) that fits, or null; assumes memory grows with the micro-batch. */
    private static StepCandidate largestFitting(List<Integer> sizes, boolean recompute, long freeBytes, Planner at) {
        if (sizes.isEmpty() || at.plan(sizes.getFirst(), recompute).bytesAfterContext() > freeBytes) {
            return null;
        }
        int lo = 0; // fits
        int hi = sizes.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (at.plan(sizes.get(mid), recompute).bytesAfterContext() <= freeBytes) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return at.plan(sizes.get(lo), recompute);
    }
}
