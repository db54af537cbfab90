package dev.octet.checkpoint;

import java.nio.file.Path;

/**
 * Refuses weights or optimizer state holding inf or NaN. Loaded, one such value spreads to every weight within
 * a step or two; saved, it would rotate a good checkpoint out. Checked where values are read anyway, so it costs
 * no extra pass over a file.
 */
public final class FiniteValues {
    private FiniteValues() {}

    /** Throws naming {@code file}, the tensor and the first non-finite element. */
    public static void require(Path file, String tensor, float[] values) throws CheckpointException {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new CheckpointException(file, "tensor " + tensor + " holds " + values[i] + " at element " + i
                        + "; the file is damaged or its run diverged");
            }
        }
    }

    /** Every F32 tensor of an open file: what a checkpoint is checked with before it may replace an older one. */
    public static void requireAll(SafetensorsFile f) throws java.io.IOException {
        for (String name : f.names()) {
            if (f.info(name).dtype() == DType.F32) {
                require(f.path(), name, f.floats(name));
            }
        }
    }
}
