package dev.octet.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Saturation, flush-to-zero and SNR on tensors whose quantization is worked out by hand. */
class QuantizationHealthTest {
    @Test
    void countsSaturatedAndFlushedElementsAndTheNoiseTheyCause() {
        // Scale 1 in E4M3: the largest magnitude is 448, the smallest subnormal 2^-9 (values below 2^-10 flush).
        float tiny = 1e-4f;
        float[] x = {1000, -500, 448, tiny, 0, 1, 2, 0.5f};
        QuantizationHealth h = QuantizationHealth.measure(x, Quantizer.quantizeWithScale(x, 2, 4, Fp8Format.E4M3, 1f));

        assertEquals(8, h.elements());
        assertEquals(3, h.saturated(), "1000 and -500 clip to ±448, and 448 lands on it");
        assertEquals(1, h.flushed(), "1e-4 becomes 0; the exact zero does not count");
        assertEquals(3.0 / 8, h.saturatedFraction());
        assertEquals(1.0 / 8, h.flushedFraction());
        assertEquals(1000, h.amax());
        double signal = 1000.0 * 1000 + 500.0 * 500 + 448.0 * 448 + (double) tiny * tiny + 1 + 4 + 0.25;
        double noise = 552.0 * 552 + 52.0 * 52 + (double) tiny * tiny;
        assertEquals(signal, h.signalEnergy(), 1e-9);
        assertEquals(noise, h.noiseEnergy(), 1e-9);
        assertEquals(10 * Math.log10(signal / noise), h.snrDb(), 1e-12);
    }

    @Test
    void aTensorOfExactFp8ValuesLosesNothing() {
        float[] x = {1, -2, 0.5f, 0, 448, 0.25f};
        QuantizationHealth h = QuantizationHealth.measure(x, Quantizer.quantizeWithScale(x, 1, 6, Fp8Format.E4M3, 1f));
        assertEquals(Double.POSITIVE_INFINITY, h.snrDb());
        assertEquals(1, h.saturated());
        assertEquals(0, h.flushed());
    }

    @Test
    void roundingNoiseOfOneUlpStepGivesTheExpectedSnr() {
        // 1.0625 lies halfway between E4M3's 1 and 1.125 and rounds to even (1): error 0.0625 per element.
        float[] x = {1.0625f, 1.0625f, 1.0625f, 1.0625f};
        QuantizationHealth h = QuantizationHealth.measure(x, Quantizer.quantizeWithScale(x, 1, 4, Fp8Format.E4M3, 1f));
        assertEquals(10 * Math.log10(1.0625 * 1.0625 / (0.0625 * 0.0625)), h.snrDb(), 1e-12);
        assertEquals(0, h.saturated());
    }

    @Test
    void justInTimePowerOfTwoScalesKeepEveryElementBelowTheFormatMax() {
        float[] x = new float[256];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37) * (i % 7 + 1);
        }
        QuantizedMatrix q = Quantizer.quantize(x, 2, 128, Granularity.group(128), Axis.COLS, Fp8Format.E4M3, ScaleType.UE8M0);
        QuantizationHealth h = QuantizationHealth.measure(x, q);
        // The rows' largest values round up to 448 but are not beyond it: headroom, not saturation.
        assertEquals(0, h.saturated());
        assertEquals(0, h.flushed());
        // E4M3 keeps 3 mantissa bits: relative error at most 2^-4 per element, so the SNR is above 24 dB.
        assertEquals(true, h.snrDb() > 24, "snr " + h.snrDb());
    }

    @Test
    void mergingAddsCountsAndEnergiesAndKeepsTheLargerAmax() {
        QuantizationHealth a = new QuantizationHealth(10, 1, 2, 3.0, 100, 1);
        QuantizationHealth b = new QuantizationHealth(30, 3, 0, 5.0, 300, 2);
        QuantizationHealth m = a.merge(b);
        assertEquals(new QuantizationHealth(40, 4, 2, 5.0, 400, 3), m);
        assertEquals(0.1, m.saturatedFraction());
        assertEquals(10 * Math.log10(400.0 / 3), m.snrDb(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new QuantizationHealth(1, 2, 0, 0, 0, 0));
    }
}
