package dev.octet.numerics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DelayedScalingTest {
    static final Fp8Format F = Fp8Format.E4M3;

    @Test
    void firstStepUsesTheCurrentAmax() {
        DelayedScaling d = DelayedScaling.start(F, 4, 0);
        assertEquals(10f / 448f, d.scale(10f));
        assertEquals(Math.scalb(10f / 448f, 2), DelayedScaling.start(F, 4, 2).scale(10f));
        assertEquals(1f, d.scale(0f));
    }

    @Test
    void laterStepsUseTheHistoryMaxNotTheCurrentAmax() {
        DelayedScaling d = DelayedScaling.start(F, 4, 0).record(10f).record(2f);
        assertEquals(10f / 448f, d.scale(1000f));
        assertEquals(10f, d.historyMax());
    }

    @Test
    void historyIsARingOfLengthL() {
        DelayedScaling d = DelayedScaling.start(F, 3, 0).record(10f).record(1f).record(2f);
        assertEquals(10f, d.historyMax());
        d = d.record(3f); // overwrites the 10, the oldest
        assertEquals(3f, d.historyMax());
        assertArrayEquals(new float[] {3f, 1f, 2f}, d.history());
        assertEquals(4, d.recorded());
    }

    @Test
    void marginDoublesTheScalePerUnitAndMatchesTransformerEnginesReciprocal() {
        for (int margin = -2; margin <= 3; margin++) {
            DelayedScaling d = DelayedScaling.start(F, 8, margin).record(5f).record(7f);
            float s = d.scale(1f);
            assertEquals(Math.scalb(7f / 448f, margin), s);
            float teScale = (float) (448.0 / 7.0 / Math.pow(2, margin)); // TE: scale = fmax / amax / 2^margin
            assertEquals(teScale, 1f / s, teScale * 1e-6f);
        }
    }

    @Test
    void quantizeStepRecordsTheAmaxAndSaturatesGrowthBeyondTheHistory() {
        float[] step1 = {1f, -2f, 0.5f, 4f};
        DelayedScaling.Step first = DelayedScaling.start(F, 2, 0).quantize(step1, 2, 2);
        assertEquals(4f / 448f, first.quantized().scale(0, 0));
        assertEquals(4f, first.amax());
        assertEquals(4f, first.next().historyMax());
        assertArrayEquals(step1, first.quantized().dequantize());

        float[] step2 = {8f, 1f, 1f, 1f}; // grew past the history: clipped to 448 · s = 4
        DelayedScaling.Step second = first.next().quantize(step2, 2, 2);
        assertEquals(4f, second.quantized().dequantize()[0]);
        assertEquals(8f, second.next().historyMax());
        assertEquals(8f / 448f, second.next().scale(0f));
    }

    @Test
    void zeroHistoryGivesScaleOneAndStatesAreImmutable() {
        DelayedScaling start = DelayedScaling.start(F, 2, 1);
        DelayedScaling zero = start.record(0f);
        assertEquals(1f, zero.scale(5f));
        assertEquals(0, start.recorded());
        assertEquals(DelayedScaling.start(F, 2, 1).record(0f), zero);
    }

    @Test
    void nonFiniteAmaxIsRejected() {
        DelayedScaling d = DelayedScaling.start(F, 2, 0);
        assertThrows(IllegalArgumentException.class, () -> d.record(Float.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> d.record(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> d.scale(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> d.quantize(new float[] {1f, Float.NaN}, 1, 2));
    }
}
