package dev.octet.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Fp8GemmTest {

    static QuantizedMatrix quantize(float[] x, int rows, int cols, Granularity g, Fp8Format f, ScaleType t) {
        return Quantizer.quantize(x, rows, cols, g, Axis.COLS, f, t);
    }

    @Test
    void chunkIsTheGcdOfTheScaleTileWidthsAlongK() {
        float[] a = TestData.activations(4, 512, 1);
        float[] b = TestData.activations(256, 512, 2);
        record Case(Granularity ga, Granularity gb, int chunk) {}
        for (Case c : new Case[] {
                new Case(Granularity.group(128), Granularity.block(128), 128),
                new Case(Granularity.group(64), Granularity.block(128), 64),
                new Case(Granularity.group(96), Granularity.block(128), 32),
                new Case(Granularity.tensor(), Granularity.tensor(), 128),
                new Case(Granularity.token(), Granularity.channel(), 128),
                new Case(Granularity.token(), Granularity.block(256), 128),
                new Case(Granularity.group(32), Granularity.channel(), 32)}) {
            QuantizedMatrix qa = quantize(a, 4, 512, c.ga(), Fp8Format.E4M3, ScaleType.UE8M0);
            QuantizedMatrix qb = quantize(b, 256, 512, c.gb(), Fp8Format.E4M3, ScaleType.UE8M0);
            assertEquals(c.chunk(), Fp8Gemm.chunkSize(qa, qb), c.toString());
        }
        // a single tile spanning K never constrains the chunk, even when K is not a multiple of 128
        float[] odd = TestData.activations(4, 300, 3);
        QuantizedMatrix t = quantize(odd, 4, 300, Granularity.tensor(), Fp8Format.E4M3, ScaleType.FP32);
        assertEquals(128, Fp8Gemm.chunkSize(t, t));
    }

    static Stream<Arguments> recipes() {
        return Stream.of(
                // InfiR2 / DeepSeek-V3: activations 1×128, weights 128×128, UE8M0; K with a partial tail
                Arguments.of(Granularity.group(128), Granularity.block(128), Fp8Format.E4M3, Fp8Format.E4M3, ScaleType.UE8M0, 300),
                Arguments.of(Granularity.group(128), Granularity.block(128), Fp8Format.E4M3, Fp8Format.E4M3, ScaleType.UE8M0, 1024),
                Arguments.of(Granularity.tensor(), Granularity.tensor(), Fp8Format.E4M3, Fp8Format.E4M3, ScaleType.FP32, 512),
                Arguments.of(Granularity.token(), Granularity.channel(), Fp8Format.E4M3, Fp8Format.E4M3, ScaleType.FP32, 384),
                // TE HYBRID: E5M2 gradients against E4M3 weights
                Arguments.of(Granularity.tensor(), Granularity.tensor(), Fp8Format.E5M2, Fp8Format.E4M3, ScaleType.FP32, 256),
                Arguments.of(Granularity.group(64), Granularity.block(128), Fp8Format.E5M2, Fp8Format.E4M3, ScaleType.UE8M0, 200));
    }

    /**
     * Against float64 on the same dequantized operands. Products of fp8 values are exact in float32, so the
     * only errors are float32 roundings: up to c-1 in a chunk of c, two for applying the scales, and one per
     * chunk when promoting; |C - ref| <= (c + chunks + 2)·2^-24·Σ|a·b| to first order.
     */
    @ParameterizedTest
    @MethodSource("recipes")
    void matchesFloat64WithinTheAccumulationBound(Granularity ga, Granularity gb, Fp8Format fa, Fp8Format fb,
                                                  ScaleType t, int k) {
        int m = 37;
        int n = 45;
        QuantizedMatrix a = quantize(TestData.activations(m, k, 21), m, k, ga, fa, t);
        QuantizedMatrix b = quantize(TestData.activations(n, k, 22), n, k, gb, fb, t);
        float[] c = Fp8Gemm.multiply(a, b);
        double[] ref = GemmReference.dequantizedFloat64(a, b);
        double[] abs = GemmReference.absoluteFloat64(a, b);
        int chunk = Fp8Gemm.chunkSize(a, b);
        double gamma = (chunk + Math.ceilDiv(k, chunk) + 2) * 0x1p-24 * 1.01;
        for (int i = 0; i < c.length; i++) {
            double err = Math.abs(c[i] - ref[i]);
            int index = i;
            assertTrue(err <= gamma * abs[i] + Float.MIN_NORMAL,
                    () -> "C[" + index + "] = " + c[index] + ", float64 " + ref[index]);
        }
    }

    @Test
    void exactWhenEverythingIsRepresentable() {
        // small integers: all products and sums are exact in float32, so the GEMM must be exact too
        int m = 8, n = 8, k = 300;
        float[] a = new float[m * k];
        float[] b = new float[n * k];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i * 7 % 17) - 8;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i * 5 % 13) - 6;
        }
        QuantizedMatrix qa = quantize(a, m, k, Granularity.group(128), Fp8Format.E4M3, ScaleType.UE8M0);
        QuantizedMatrix qb = quantize(b, n, k, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0);
        float[] c = Fp8Gemm.multiply(qa, qb);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double expected = 0;
                for (int kk = 0; kk < k; kk++) {
                    expected += (double) a[i * k + kk] * b[j * k + kk];
                }
                assertEquals(expected, c[i * n + j], 0.0);
            }
        }
    }

    /**
     * K = 4096 of positive values, where a single float32 running sum loses the most: promotion per 128-chunk
     * keeps the error bounded by about (128 + 32)·u·Σ|a·b| and, in aggregate, below the naive sum's.
     */
    @Test
    void promotionAtK4096IsAtLeastAsAccurateAsOneRunningFloat32Sum() {
        int m = 32, n = 32, k = 4096;
        for (Granularity[] g : new Granularity[][] {
                {Granularity.tensor(), Granularity.tensor()},
                {Granularity.group(128), Granularity.block(128)}}) {
            QuantizedMatrix a = quantize(TestData.uniform(m, k, 0.0, 1.0, 31), m, k, g[0], Fp8Format.E4M3,
                    ScaleType.UE8M0);
            QuantizedMatrix b = quantize(TestData.uniform(n, k, 0.0, 1.0, 32), n, k, g[1], Fp8Format.E4M3,
                    ScaleType.UE8M0);
            float[] promoted = Fp8Gemm.multiply(a, b);
            float[] naive = GemmReference.naiveFloat32(a, b);
            double[] ref = GemmReference.dequantizedFloat64(a, b);
            double[] abs = GemmReference.absoluteFloat64(a, b);
            double promotedSq = 0, naiveSq = 0;
            for (int i = 0; i < ref.length; i++) {
                double ep = promoted[i] - ref[i];
                double en = naive[i] - ref[i];
                promotedSq += ep * ep;
                naiveSq += en * en;
                assertTrue(Math.abs(ep) <= (128 + 32 + 2) * 0x1p-24 * abs[i] * 1.01);
            }
            assertTrue(promotedSq <= naiveSq, "promoted " + Math.sqrt(promotedSq) + " vs naive " + Math.sqrt(naiveSq));
        }
    }

    @Test
    void rejectsOperandsNotQuantizedAlongK() {
        float[] x = TestData.activations(256, 256, 41);
        QuantizedMatrix alongRows = Quantizer.quantize(x, 256, 256, Granularity.group(128), Axis.ROWS,
                Fp8Format.E4M3, ScaleType.UE8M0);
        QuantizedMatrix ok = quantize(x, 256, 256, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0);
        assertThrows(IllegalArgumentException.class, () -> Fp8Gemm.multiply(alongRows, ok));
        QuantizedMatrix shorter = quantize(TestData.activations(4, 128, 42), 4, 128, Granularity.tensor(),
                Fp8Format.E4M3, ScaleType.FP32);
        assertThrows(IllegalArgumentException.class, () -> Fp8Gemm.multiply(shorter, ok));
    }
}
