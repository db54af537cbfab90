package dev.octet.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ScaleTypeTest {

    private static boolean isPowerOfTwo(float s) {
        return s > 0 && Math.scalb(1.0f, Math.getExponent(s)) == s;
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void zeroAmaxGivesOne(Fp8Format f) {
        for (ScaleType t : ScaleType.values()) {
            assertEquals(1.0f, t.scaleFor(0f, f));
            assertEquals(1.0f, t.scaleFor(-0f, f));
        }
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void nonFiniteOrNegativeAmaxIsRejected(Fp8Format f) {
        for (ScaleType t : ScaleType.values()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -1f}) {
                assertThrows(IllegalArgumentException.class, () -> t.scaleFor(bad, f), t + " " + bad);
            }
        }
    }

    /** Powers of two, never letting amax/s exceed fmax, and the smallest such power (rounded up, not more). */
    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void ue8m0IsTheSmallestPowerOfTwoThatFits(Fp8Format f) {
        SplittableRandom random = new SplittableRandom(7);
        float fmax = f.maxFinite();
        for (int i = 0; i < 200_000; i++) {
            float amax = Math.abs(Float.intBitsToFloat(random.nextInt()));
            if (!Float.isFinite(amax) || amax == 0) {
                continue;
            }
            float s = ScaleType.UE8M0.scaleFor(amax, f);
            assertTrue(isPowerOfTwo(s), "not a power of two: " + s);
            assertTrue(amax / s <= fmax, () -> "amax " + amax + " / " + s + " exceeds fmax");
            assertTrue(f.decode(f.encode(amax / s)) == f.round(amax / s) && Math.abs(f.round(amax / s)) <= fmax);
            if (s > 0x1p-127f) {
                assertTrue((double) amax / (s / 2.0) > fmax, () -> "not minimal for " + amax + ": " + s);
            }
            assertEquals(s, ScaleType.ue8m0Decode(ScaleType.ue8m0Code(s)));
        }
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void ue8m0ExactBinadeEdges(Fp8Format f) {
        float fmax = f.maxFinite();
        for (int k = -100; k <= 100; k++) {
            float edge = Math.scalb(fmax, k);
            assertEquals(Math.scalb(1f, k), ScaleType.UE8M0.scaleFor(edge, f), "at fmax*2^" + k);
            assertEquals(Math.scalb(1f, k + 1), ScaleType.UE8M0.scaleFor(Math.nextUp(edge), f), "just above");
            assertEquals(Math.scalb(1f, k), ScaleType.UE8M0.scaleFor(Math.nextDown(edge), f), "just below");
            // a power of two below fmax·2^k but above fmax·2^(k-1) also uses 2^k
            assertEquals(Math.scalb(1f, k), ScaleType.UE8M0.scaleFor(Math.scalb(1f, Math.getExponent(fmax) + k), f));
        }
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void tinyAmaxIsClampedWithoutOverflow(Fp8Format f) {
        for (float amax : new float[] {Float.MIN_VALUE, 1e-40f, Float.MIN_NORMAL, 1e-37f}) {
            float s8 = ScaleType.UE8M0.scaleFor(amax, f);
            float s32 = ScaleType.FP32.scaleFor(amax, f);
            assertTrue(s8 >= 0x1p-127f && amax / s8 <= f.maxFinite());
            assertTrue(s32 >= Float.MIN_NORMAL && amax / s32 <= f.maxFinite());
        }
        assertEquals(0x1p-127f, ScaleType.UE8M0.scaleFor(Float.MIN_VALUE, f));
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void fp32MapsAmaxOntoFmax(Fp8Format f) {
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 10_000; i++) {
            float amax = (float) Math.scalb(1 + random.nextDouble(), random.nextInt(-60, 60));
            float s = ScaleType.FP32.scaleFor(amax, f);
            assertEquals(amax / f.maxFinite(), s);
            assertEquals(f.maxFinite(), f.round(amax / s)); // at most a hair past fmax, which saturates
        }
    }

    @Test
    void ue8m0CodesRejectNonPowersOfTwo() {
        assertEquals((byte) 127, ScaleType.ue8m0Code(1f));
        assertEquals((byte) 0, ScaleType.ue8m0Code(0x1p-127f));
        assertEquals((byte) 254, ScaleType.ue8m0Code(0x1p127f));
        assertTrue(Float.isNaN(ScaleType.ue8m0Decode((byte) 255)));
        assertThrows(IllegalArgumentException.class, () -> ScaleType.ue8m0Code(3f));
        assertThrows(IllegalArgumentException.class, () -> ScaleType.ue8m0Code(0f));
        assertThrows(IllegalArgumentException.class, () -> ScaleType.ue8m0Code(Float.NaN));
    }
}
