package dev.octet.train;

import dev.octet.cpu.exec.ParameterStore;
import java.util.List;
import java.util.Optional;

/**
 * Finds what went non-finite in a step before the optimizer sees it: the loss, or the first parameter gradient
 * holding inf or NaN (FP8 operands are checked earlier, where they are quantized). The scan over gradients
 * runs only when their global norm is not finite, so a healthy step pays one norm.
 */
final class NonFiniteCheck {
    private NonFiniteCheck() {}

    static Optional<String> firstNonFinite(double loss, double gradNorm, List<ParameterStore.Entry> params) {
        if (!Double.isFinite(loss)) {
            return Optional.of("loss");
        }
        if (Double.isFinite(gradNorm)) {
            return Optional.empty();
        }
        for (ParameterStore.Entry e : params) {
            for (double g : e.grad()) {
                if (!Double.isFinite(g)) {
                    return Optional.of("gradient of " + e.param().name());
                }
            }
        }
        // The norm overflowed although every element is finite: still no update that can be trusted.
        return Optional.of("gradient norm");
    }
}
