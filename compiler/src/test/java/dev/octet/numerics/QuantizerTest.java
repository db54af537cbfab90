package dev.octet.numerics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class QuantizerTest {
    static final int ROWS = 300;
    static final int COLS = 200;

    static final List<Granularity> GRANULARITIES = List.of(Granularity.tensor(), Granularity.channel(),
            Granularity.token(), Granularity.group(128), Granularity.group(32), Granularity.block(128),
            Granularity.block(64));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Granularity g : GRANULARITIES) {
            for (Axis axis : Axis.values()) {
                for (Fp8Format f : Fp8Format.values()) {
                    for (ScaleType t : ScaleType.values()) {
                        out.add(Arguments.of(g, axis, f, t));
                    }
                }
            }
        }
        return out.stream();
    }

    @Test
    void scaleGridShapesFor300x200IncludingTails() {
        record Expect(Granularity g, Axis axis, int scaleRows, int scaleCols) {}
        for (Expect e : List.of(
                new Expect(Granularity.tensor(), Axis.COLS, 1, 1),
                new Expect(Granularity.tensor(), Axis.ROWS, 1, 1),
                new Expect(Granularity.token(), Axis.COLS, 300, 1),
                new Expect(Granularity.channel(), Axis.COLS, 300, 1),
                new Expect(Granularity.token(), Axis.ROWS, 1, 200),
                new Expect(Granularity.group(128), Axis.COLS, 300, 2),
                new Expect(Granularity.group(128), Axis.ROWS, 3, 200),
                new Expect(Granularity.block(128), Axis.COLS, 3, 2),
                new Expect(Granularity.block(128), Axis.ROWS, 3, 2))) {
            ScaleGrid grid = ScaleGrid.of(e.g(), e.axis(), ROWS, COLS);
            assertEquals(e.scaleRows(), grid.scaleRows(), e.toString());
            assertEquals(e.scaleCols(), grid.scaleCols(), e.toString());
        }
    }

    /**
     * Error bound per element, with q = x/s: RNE in the normal range is off by at most half an ulp, 2^-(m+1)·|q|;
     * below it by at most half a subnormal step, 2^(emin-m-1); times s. Two float32 roundings (x/s and
     * decode·s) add a relative 2^-24 each. Since |x| <= amax of its tile and s·2^emin <= amax, the error is also
     * at most 2^-(m+1)·amax(tile): the format's half-ulp bound relative to the group's amax.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void dequantizationErrorIsWithinHalfAnUlp(Granularity g, Axis axis, Fp8Format f, ScaleType t) {
        float[] x = TestData.activations(ROWS, COLS, 11);
        QuantizedMatrix q = Quantizer.quantize(x, ROWS, COLS, g, axis, f, t);
        float[] deq = q.dequantize();
        float[] s = q.expandedScales();
        float[] tileAmax = tileAmax(x, q.grid());
        double halfUlp = Math.scalb(1.0, -(f.mantissaBits() + 1));
        double subnormalHalfStep = Math.scalb(1.0, f.minNormalExponent() - f.mantissaBits() - 1);
        for (int i = 0; i < x.length; i++) {
            double err = Math.abs((double) x[i] - deq[i]);
            double bound = Math.max(halfUlp * Math.abs(x[i]), subnormalHalfStep * s[i]) * (1 + 0x1p-21);
            int index = i;
            assertTrue(err <= bound, () -> "element " + index + ": x=" + x[index] + " deq=" + deq[index]);
            assertTrue(err <= halfUlp * tileAmax[i] * (1 + 0x1p-21));
            if (t == ScaleType.UE8M0) {
                assertTrue(Math.abs(x[i] / s[i]) <= f.maxFinite(), "a UE8M0 scale never saturates");
            }
        }
    }

    /** The last partial group/block takes its scale from its own elements only. */
    @ParameterizedTest
    @MethodSource("cases")
    void tailTilesGetTheirOwnScale(Granularity g, Axis axis, Fp8Format f, ScaleType t) {
        float[] x = TestData.activations(ROWS, COLS, 12);
        ScaleGrid grid = ScaleGrid.of(g, axis, ROWS, COLS);
        // shrink the last partial tiles so a scale borrowed from a full neighbour would be visibly wrong
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLS; c++) {
                boolean lastRowTile = r / grid.tileRows() == grid.scaleRows() - 1 && ROWS % grid.tileRows() != 0;
                boolean lastColTile = c / grid.tileCols() == grid.scaleCols() - 1 && COLS % grid.tileCols() != 0;
                if (lastRowTile || lastColTile) {
                    x[r * COLS + c] *= 0x1p-10f;
                }
            }
        }
        QuantizedMatrix q = Quantizer.quantize(x, ROWS, COLS, g, axis, f, t);
        float[] amax = tileAmax(x, grid);
        float[] scales = q.scales();
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLS; c++) {
                assertEquals(t.scaleFor(amax[r * COLS + c], f), scales[grid.scaleIndex(r, c)]);
                assertEquals(q.scale(r, c), scales[grid.scaleIndex(r, c)]);
            }
        }
    }

    /** Quantizing along ROWS is quantizing the transpose along COLS: the wgrad operands are a transposed cast. */
    @ParameterizedTest
    @MethodSource("cases")
    void rowsAxisIsTheTransposeOfColsAxis(Granularity g, Axis axis, Fp8Format f, ScaleType t) {
        if (axis != Axis.ROWS) {
            return;
        }
        float[] x = TestData.activations(ROWS, COLS, 13);
        QuantizedMatrix alongRows = Quantizer.quantize(x, ROWS, COLS, g, Axis.ROWS, f, t);
        QuantizedMatrix transposed = Quantizer.quantize(TestData.transpose(x, ROWS, COLS), COLS, ROWS, g,
                Axis.COLS, f, t);
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLS; c++) {
                assertEquals(transposed.code(c, r), alongRows.code(r, c));
                assertEquals(transposed.scale(c, r), alongRows.scale(r, c));
            }
        }
    }

    @Test
    void codesAreExactlyEncodeOfXOverS() {
        float[] x = TestData.activations(64, 256, 14);
        QuantizedMatrix q = Quantizer.quantize(x, 64, 256, Granularity.group(128), Axis.COLS, Fp8Format.E4M3,
                ScaleType.UE8M0);
        for (int r = 0; r < 64; r++) {
            for (int c = 0; c < 256; c++) {
                assertEquals(Fp8Format.E4M3.encode(x[r * 256 + c] / q.scale(r, c)), q.code(r, c));
            }
        }
    }

    @Test
    void allZeroGroupsGetScaleOneAndZeroCodes() {
        float[] x = new float[4 * 256];
        x[456] = 3f; // row 1, column 200: the second group
        QuantizedMatrix q = Quantizer.quantize(x, 4, 256, Granularity.group(128), Axis.COLS, Fp8Format.E4M3,
                ScaleType.UE8M0);
        assertEquals(1f, q.scale(0, 0));
        assertEquals(1f, q.scale(1, 0));
        assertNotEquals(1f, q.scale(1, 200));
        assertEquals(0, q.code(0, 5));
        assertEquals(3f, q.dequantize()[456]);
    }

    @Test
    void nonFiniteInputIsRejected() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] x = TestData.activations(8, 256, 15);
            x[77] = bad;
            assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(x, 8, 256, Granularity.group(128),
                    Axis.COLS, Fp8Format.E4M3, ScaleType.UE8M0));
        }
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(new float[10], 3, 3,
                Granularity.tensor(), Axis.COLS, Fp8Format.E4M3, ScaleType.FP32));
    }

    @Test
    void quantizedMatrixIsImmutable() {
        float[] x = TestData.activations(4, 8, 16);
        QuantizedMatrix q = Quantizer.quantize(x, 4, 8, Granularity.token(), Axis.COLS, Fp8Format.E4M3,
                ScaleType.FP32);
        QuantizedMatrix same = Quantizer.quantize(x, 4, 8, Granularity.token(), Axis.COLS, Fp8Format.E4M3,
                ScaleType.FP32);
        byte before = q.code(0, 0);
        q.codes()[0] ^= 1;
        q.scales()[0] = 42f;
        assertEquals(before, q.code(0, 0));
        assertNotEquals(42f, q.scale(0, 0));
        assertEquals(same, q);
        assertEquals(same.hashCode(), q.hashCode());
        assertArrayEquals(same.dequantize(), q.dequantize());
        assertThrows(IndexOutOfBoundsException.class, () -> q.code(4, 0));
    }

    static float[] tileAmax(float[] x, ScaleGrid grid) {
        float[] perTile = new float[grid.scaleCount()];
        for (int r = 0; r < grid.rows(); r++) {
            for (int c = 0; c < grid.cols(); c++) {
                int t = grid.scaleIndex(r, c);
                perTile[t] = Math.max(perTile[t], Math.abs(x[r * grid.cols() + c]));
            }
        }
        float[] out = new float[x.length];
        for (int r = 0; r < grid.rows(); r++) {
            for (int c = 0; c < grid.cols(); c++) {
                out[r * grid.cols() + c] = perTile[grid.scaleIndex(r, c)];
            }
        }
        return out;
    }
}
