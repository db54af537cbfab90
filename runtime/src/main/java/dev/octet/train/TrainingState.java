package dev.octet.train;

import dev.octet.checkpoint.TensorNames;
import dev.octet.checkpoint.TensorSource;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.DelayedScaling;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.SequencedMap;

/**
 * A run's training state (FP32 master weights, AdamW moments, delayed scaling's amax histories) wherever it
 * lives, the CPU's parameter store or the device's arena, seen as the checkpoint format names it.
 * {@link TrainingCheckpoint} writes and restores files through it, so both backends write the same files and
 * check them the same way, and neither needs the other's representation.
 */
interface TrainingState {
    /** The FP32 tensors a parameter has in a checkpoint. */
    enum Part {
        MASTER, ADAM_M, ADAM_V;

        String tensorName(String parameter) {
            return switch (this) {
                case MASTER -> TensorNames.master(parameter);
                case ADAM_M -> TensorNames.adamM(parameter);
                case ADAM_V -> TensorNames.adamV(parameter);
            };
        }
    }

    /** Every tensor of a checkpoint, under its name, its bytes produced only as the file is written. */
    SequencedMap<String, TensorSource> tensors();

    /** Overwrites one part of {@code param} with {@code values}: little-endian F32, shape checked, all finite. */
    void load(ParameterTable.Param param, Part part, MemorySegment values) throws IOException;

    /** Sets the amax history and count of one delayed-scaling operand. */
    void restoreDelayedScaling(String linear, Gemm gemm, Role role, DelayedScaling state);

    /** After a file's tensors are loaded: what derives from the masters (the BF16 working copies) is rebuilt. */
    void loaded();
}
