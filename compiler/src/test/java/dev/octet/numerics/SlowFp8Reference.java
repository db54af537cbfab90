package dev.octet.numerics;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * An independent, deliberately slow model of FP8 encoding: the finite values are enumerated from the format's
 * definition as exact BigDecimals, the nearest one is picked by exact comparison, a tie goes to the even
 * mantissa, and anything beyond the largest finite value (and ±inf) saturates to it. It shares no code with
 * {@link Fp8Format} beyond the format's parameters.
 */
final class SlowFp8Reference {
    /** Value of magnitude code i, ascending; the index is the code because codes sort like their values. */
    final List<BigDecimal> values = new ArrayList<>();
    final int nanMagnitude = 0x7f;

    SlowFp8Reference(int exponentBits, int mantissaBits, int bias, boolean ieeeSpecials) {
        int exponents = 1 << exponentBits;
        int mantissas = 1 << mantissaBits;
        for (int e = 0; e < exponents; e++) {
            for (int mant = 0; mant < mantissas; mant++) {
                boolean special = ieeeSpecials ? e == exponents - 1 : (e == exponents - 1 && mant == mantissas - 1);
                if (special) {
                    continue;
                }
                BigDecimal v = e == 0
                        ? BigDecimal.valueOf(mant).multiply(pow2(1 - bias - mantissaBits))
                        : BigDecimal.valueOf(mantissas + mant).multiply(pow2(e - bias - mantissaBits));
                values.add(v);
            }
        }
    }

    static SlowFp8Reference of(Fp8Format f) {
        return switch (f) {
            case E4M3 -> new SlowFp8Reference(4, 3, 7, false);
            case E5M2 -> new SlowFp8Reference(5, 2, 15, true);
        };
    }

    int maxMagnitudeCode() {
        return values.size() - 1;
    }

    BigDecimal max() {
        return values.getLast();
    }

    /** The expected code; NaN input gives the canonical NaN 0x7F, sign dropped, as the H200 does. */
    byte encode(float x) {
        int sign = Float.floatToRawIntBits(x) < 0 ? 0x80 : 0;
        if (Float.isNaN(x)) {
            return (byte) nanMagnitude;
        }
        if (Float.isInfinite(x)) {
            return (byte) (sign | maxMagnitudeCode());
        }
        BigDecimal v = new BigDecimal(Math.abs((double) x));
        if (v.compareTo(max()) >= 0) {
            return (byte) (sign | maxMagnitudeCode());
        }
        // lo = largest code with value <= v; v < max so lo + 1 exists.
        int lo = 0;
        int hi = values.size() - 1;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (values.get(mid).compareTo(v) <= 0) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        BigDecimal below = v.subtract(values.get(lo));
        BigDecimal above = values.get(lo + 1).subtract(v);
        int cmp = below.compareTo(above);
        int code = cmp < 0 ? lo : cmp > 0 ? lo + 1 : ((lo & 1) == 0 ? lo : lo + 1);
        return (byte) (sign | code);
    }

    private static BigDecimal pow2(int p) {
        return new BigDecimal(Math.scalb(1.0, p));
    }
}
