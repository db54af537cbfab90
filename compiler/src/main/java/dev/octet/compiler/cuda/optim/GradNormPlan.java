package dev.octet.compiler.cuda.optim;

import java.util.ArrayList;
import java.util.List;

/**
 * The deterministic global gradient norm over several FP32 gradient buffers: one {@link GradSquareSum} per
 * buffer, writing into consecutive slot ranges of one partials scratch buffer (f32[{@link #partialCount()}]),
 * then one {@link GradNormFinalize}. Slot ranges follow the order of {@code gradientElements}, so the sum order,
 * and with it the norm's bits, depends only on the model.
 */
public record GradNormPlan(List<Integer> gradientElements, double maxNorm) {

    public GradNormPlan {
        gradientElements = List.copyOf(gradientElements);
        if (gradientElements.isEmpty()) {
            throw new IllegalArgumentException("a gradient norm needs at least one gradient buffer");
        }
    }

    /** One square-sum kernel per gradient buffer, in order. */
    public List<GradSquareSum> squareSums() {
        List<GradSquareSum> kernels = new ArrayList<>();
        for (int n : gradientElements) {
            kernels.add(new GradSquareSum(n));
        }
        return List.copyOf(kernels);
    }

    /** Where buffer {@code i}'s partials start: the element offset to add to the partials pointer. */
    public int firstSlot(int i) {
        java.util.Objects.checkIndex(i, gradientElements.size() + 1);
        int slot = 0;
        List<GradSquareSum> sums = squareSums();
        for (int b = 0; b < i; b++) {
            slot += sums.get(b).partialCount();
        }
        return slot;
    }

    public int partialCount() {
        return firstSlot(gradientElements.size());
    }

    public GradNormFinalize finalizer() {
        return new GradNormFinalize(partialCount(), maxNorm);
    }
}
