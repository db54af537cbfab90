package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.octet.compiler.cuda.optim.AdamWScalarSlot;
import dev.octet.data.Batch;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the host writes into the step's input buffers, from a batch and the schedule. */
class MicroBatchInputsTest {
    // Two rows of four; row 0 holds the end of document 7 and the start of document 8.
    private static final Batch BATCH = new Batch(2, 4,
            new int[] {10, 11, 12, 13, 20, 21, 22, 23},
            new int[] {11, 12, 13, 14, 21, 22, 23, 24},
            new int[] {7, 7, 8, 8, 9, 9, 9, 9},
            new float[] {1, 0, 1, 1, 0, 0, 1, 1});

    @Test
    void maskedTargetsBecomeMinusOneAndPositionsRestartAtDocumentsAndRows() {
        MicroBatchInputs in = MicroBatchInputs.of(BATCH);
        assertArrayEquals(BATCH.inputs(), in.tokens());
        assertArrayEquals(new int[] {11, -1, 13, 14, -1, -1, 23, 24}, in.targets());
        assertArrayEquals(new int[] {0, 1, 0, 1, 0, 1, 2, 3}, in.positions());
        assertArrayEquals(BATCH.documentIds(), in.documentIds());
        assertEquals(5, in.countedTokens());
    }

    @Test
    void theLossWeightCountsTheTokensOfTheWholeStep() {
        MicroBatchInputs a = MicroBatchInputs.of(BATCH);
        MicroBatchInputs b = MicroBatchInputs.of(new Batch(1, 2, new int[] {1, 2}, new int[] {2, 3}, new int[] {0, 0},
                new float[] {1, 1}));
        assertEquals((float) (1.0 / 7), MicroBatchInputs.lossWeight(List.of(a, b)));
        MicroBatchInputs none = MicroBatchInputs.of(new Batch(1, 1, new int[] {1}, new int[] {2}, new int[] {0},
                new float[] {0}));
        assertEquals(0f, MicroBatchInputs.lossWeight(List.of(none)));
    }

    @Test
    void aFractionalMaskIsRefused() {
        Batch half = new Batch(1, 2, new int[] {1, 2}, new int[] {2, 3}, new int[] {0, 0}, new float[] {1, 0.5f});
        assertThrows(IllegalArgumentException.class, () -> MicroBatchInputs.of(half));
    }

    @Test
    void stepScalarsAreRoundedAsTheCpuAdamWRoundsThem() {
        StepScalars s = StepScalars.of(2e-3, 0.9, 0.95, 3);
        float[] slots = s.slots();
        assertEquals(AdamWScalarSlot.count(), slots.length);
        assertEquals((float) 2e-3, slots[AdamWScalarSlot.LEARNING_RATE.index()]);
        assertEquals((float) (1 - Math.pow(0.9, 3)), slots[AdamWScalarSlot.BIAS_CORRECTION1.index()]);
        assertEquals((float) (1 - Math.pow(0.95, 3)), slots[AdamWScalarSlot.BIAS_CORRECTION2.index()]);
        assertEquals(1f, slots[AdamWScalarSlot.CLIP_FACTOR.index()]);
        assertThrows(IllegalArgumentException.class, () -> StepScalars.of(1e-3, 0.9, 0.95, 0));
    }
}
