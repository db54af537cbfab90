package dev.octet.gpu;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Disables a test where {@link CudaAvailability#probe()} says Unavailable. It must decide before anything
 * touches JCuda: loading JCuda's driver binding without libcuda.so.1 throws UnsatisfiedLinkError, which would
 * turn "no GPU here" into a crash.
 */
public final class RequiresCudaDevice implements ExecutionCondition {
    /** Probed once per JVM: the answer cannot change while it runs. */
    private static final class Probe {
        static final CudaAvailability RESULT = CudaAvailability.probe();
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return switch (Probe.RESULT) {
            case CudaAvailability.Available device -> ConditionEvaluationResult.enabled("CUDA device: " + device);
            case CudaAvailability.Unavailable why -> ConditionEvaluationResult.disabled("no CUDA device: " + why.reason());
        };
    }
}
