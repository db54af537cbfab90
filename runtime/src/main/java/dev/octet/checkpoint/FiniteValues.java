package dev.octet.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.stream.LongStream;

/**
 * Refuses weights or optimizer state holding inf or NaN. Loaded, one such value spreads to every weight within
 * a step or two; saved, it would rotate a good checkpoint out. Checked where values are read anyway, so it costs
 * no extra pass over a file.
 */
public final class FiniteValues {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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

    /**
     * The same over little-endian F32 values in place (a region of a memory-mapped file), without copying them
     * out: chunks are checked in parallel, and only a file that fails is scanned again for its first bad element.
     */
    public static void require(Path file, String tensor, MemorySegment values) throws CheckpointException {
        long count = values.byteSize() / Float.BYTES;
        long chunk = 1L << 22;
        boolean finite = LongStream.range(0, (count + chunk - 1) / chunk).parallel().allMatch(c -> {
            for (long i = c * chunk, end = Math.min(count, i + chunk); i < end; i++) {
                if (!Float.isFinite(values.getAtIndex(F32, i))) {
                    return false;
                }
            }
            return true;
        });
        if (!finite) {
            for (long i = 0; i < count; i++) {
                float x = values.getAtIndex(F32, i);
                if (!Float.isFinite(x)) {
                    throw new CheckpointException(file, "tensor " + tensor + " holds " + x + " at element " + i
                            + "; the file is damaged or its run diverged");
                }
            }
        }
    }

    /** Every F32 tensor of an open file: what a checkpoint is checked with before it may replace an older one. */
    public static void requireAll(TensorReader f) throws java.io.IOException {
        for (String name : f.names()) {
            if (f.info(name).dtype() == DType.F32) {
                require(f.path(), name, f.segment(name));
            }
        }
    }
}
