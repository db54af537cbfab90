package dev.octet.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class Fp8FormatTest {

    @Test
    void knownConstants() {
        assertEquals(448f, Fp8Format.E4M3.maxFinite());
        assertEquals(57344f, Fp8Format.E5M2.maxFinite());
        assertEquals(0x1p-9f, Fp8Format.E4M3.minSubnormal());
        assertEquals(0x1p-16f, Fp8Format.E5M2.minSubnormal());
        assertEquals(448f, Fp8Format.E4M3.decode((byte) 0x7e));
        assertTrue(Float.isNaN(Fp8Format.E4M3.decode((byte) 0x7f)));
        assertTrue(Float.isNaN(Fp8Format.E4M3.decode((byte) 0xff)));
        assertEquals(Float.POSITIVE_INFINITY, Fp8Format.E5M2.decode((byte) 0x7c));
        assertEquals(Float.NEGATIVE_INFINITY, Fp8Format.E5M2.decode((byte) 0xfc));
        for (int c : new int[] {0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff}) {
            assertTrue(Float.isNaN(Fp8Format.E5M2.decode((byte) c)));
        }
        assertEquals(1.0f, Fp8Format.E4M3.decode((byte) 0x38));
        assertEquals(1.0f, Fp8Format.E5M2.decode((byte) 0x3c));
        assertEquals(0x1p-6f, Fp8Format.E4M3.decode((byte) 0x08));
        assertEquals(-0.0f, Fp8Format.E4M3.decode((byte) 0x80));
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void decodeMatchesTheIndependentEnumeration(Fp8Format f) {
        SlowFp8Reference ref = SlowFp8Reference.of(f);
        for (int code = 0; code <= ref.maxMagnitudeCode(); code++) {
            assertEquals(0, ref.values.get(code).compareTo(new BigDecimal(f.decode((byte) code))), "code " + code);
            assertEquals(-ref.values.get(code).doubleValue(), f.decode((byte) (code | 0x80)), "code -" + code);
        }
    }

    /** Every code survives decode→encode; NaN codes give a NaN code, E5M2's ±inf saturate (satfinite). */
    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void allCodesRoundTrip(Fp8Format f) {
        for (int code = 0; code < 256; code++) {
            float v = f.decode((byte) code);
            byte back = f.encode(v);
            if (Float.isNaN(v)) {
                assertTrue(f.isNaN(back), "NaN code " + code);
            } else if (Float.isInfinite(v)) {
                assertEquals(v > 0 ? f.maxFinite() : -f.maxFinite(), f.decode(back));
            } else {
                assertEquals((byte) code, back, "code " + Integer.toHexString(code));
            }
        }
    }

    @Test
    void specialInputsE4M3() {
        Fp8Format f = Fp8Format.E4M3;
        assertEquals((byte) 0x7e, f.encode(448f));
        assertEquals((byte) 0x7e, f.encode(464f)); // tie between 448 and the would-be 480: even mantissa 448
        assertEquals((byte) 0x7e, f.encode(470f)); // nearer to 480, which does not exist: saturate
        assertEquals((byte) 0x7e, f.encode(1e30f));
        assertEquals((byte) 0x7e, f.encode(Float.MAX_VALUE));
        assertEquals((byte) 0x7e, f.encode(Float.POSITIVE_INFINITY));
        assertEquals((byte) 0xfe, f.encode(Float.NEGATIVE_INFINITY));
        assertEquals((byte) 0xfe, f.encode(-500f));
        assertTrue(f.isNaN(f.encode(Float.NaN)));
        assertTrue(f.isNaN(f.encode(Float.intBitsToFloat(0xffc00001))));
        assertEquals((byte) 0x00, f.encode(0f));
        assertEquals((byte) 0x80, f.encode(-0f));
        assertEquals((byte) 0x00, f.encode(Float.MIN_VALUE)); // fp32 subnormal
        assertEquals((byte) 0x80, f.encode(-Float.MIN_NORMAL));
        assertEquals((byte) 0x01, f.encode(0x1p-9f));
        assertEquals((byte) 0x00, f.encode(0x1p-10f)); // tie between 0 and 2^-9: to even (0)
        assertEquals((byte) 0x01, f.encode(Math.nextUp(0x1p-10f)));
        assertEquals((byte) 0x02, f.encode(0x3p-10f)); // tie between 1 and 2 subnormal units: to even (2)
        assertEquals((byte) 0x38, f.encode(1.0625f)); // tie between 1.0 and 1.125: to 1.0
        assertEquals((byte) 0x3a, f.encode(1.1875f)); // tie between 1.125 and 1.25: to 1.25
        assertEquals((byte) 0x39, f.encode(Math.nextUp(1.0625f)));
        assertEquals((byte) 0x39, f.encode(Math.nextDown(1.1875f)));
        assertEquals((byte) 0x08, f.encode(Math.nextDown(0x1p-6f))); // rounds up across the subnormal/normal edge
    }

    @Test
    void specialInputsE5M2() {
        Fp8Format f = Fp8Format.E5M2;
        assertEquals((byte) 0x7b, f.encode(57344f));
        assertEquals((byte) 0x7b, f.encode(61440f)); // tie between max and the would-be 65536: saturates
        assertEquals((byte) 0x7b, f.encode(Float.POSITIVE_INFINITY));
        assertEquals((byte) 0xfb, f.encode(Float.NEGATIVE_INFINITY));
        assertTrue(f.isNaN(f.encode(Float.NaN)));
        assertEquals((byte) 0x01, f.encode(0x1p-16f));
        assertEquals((byte) 0x00, f.encode(0x1p-17f));
        assertEquals((byte) 0x01, f.encode(Math.nextUp(0x1p-17f)));
        assertEquals((byte) 0x3c, f.encode(1.125f)); // tie between 1.0 and 1.25: to 1.0
        assertEquals((byte) 0x3e, f.encode(1.375f)); // tie between 1.25 and 1.5: to 1.5
    }

    /** Every fp8 value, every midpoint between neighbours, and the floats just around each of them. */
    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void valuesMidpointsAndTheirNeighboursMatchReference(Fp8Format f) {
        SlowFp8Reference ref = SlowFp8Reference.of(f);
        List<Float> inputs = new ArrayList<>();
        List<BigDecimal> points = new ArrayList<>(ref.values);
        for (int i = 0; i + 1 < ref.values.size(); i++) {
            points.add(ref.values.get(i).add(ref.values.get(i + 1)).divide(BigDecimal.TWO));
        }
        BigDecimal max = ref.max();
        BigDecimal step = max.subtract(ref.values.get(ref.values.size() - 2));
        points.add(max.add(step.divide(BigDecimal.TWO))); // the tie with the would-be next value
        points.add(max.add(step)); // the would-be next value itself
        points.add(max.add(step.multiply(BigDecimal.valueOf(3)).divide(BigDecimal.valueOf(4))));
        for (BigDecimal p : points) {
            float x = p.floatValue(); // all these points are exact floats
            assertEquals(0, new BigDecimal(x).compareTo(p), "not exact: " + p);
            for (float y : new float[] {x, Math.nextUp(x), Math.nextDown(x), Math.nextUp(Math.nextUp(x))}) {
                inputs.add(y);
                inputs.add(-y);
            }
        }
        for (float x : inputs) {
            assertEquals(ref.encode(x), f.encode(x), () -> "x=" + x + " (" + Float.toHexString(x) + ")");
        }
    }

    @ParameterizedTest
    @EnumSource(Fp8Format.class)
    void randomFloatsOfEveryClassMatchReference(Fp8Format f) {
        SlowFp8Reference ref = SlowFp8Reference.of(f);
        SplittableRandom random = new SplittableRandom(0x0c7e7L + f.ordinal());
        for (int i = 0; i < 100_000; i++) {
            float x = switch (i % 4) {
                case 0 -> Float.intBitsToFloat(random.nextInt()); // any bit pattern: NaNs, infs, fp32 subnormals
                case 1 -> Float.intBitsToFloat(random.nextInt() & 0x807fffff); // fp32 subnormals and zeros
                default -> {
                    // exponents around the fp8 range, so most samples exercise rounding rather than saturation
                    int exponent = random.nextInt(-28, 20);
                    float m = Float.intBitsToFloat((random.nextInt() & 0x807fffff) | 0x3f800000);
                    yield Math.scalb(m, exponent);
                }
            };
            byte expected = ref.encode(x);
            byte actual = f.encode(x);
            if (Float.isNaN(x)) {
                assertTrue(f.isNaN(actual), "NaN in, NaN out");
            } else {
                assertEquals(expected, actual, () -> "x=" + Float.toHexString(x));
            }
        }
    }
}
