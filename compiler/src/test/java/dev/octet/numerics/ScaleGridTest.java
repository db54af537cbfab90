package dev.octet.numerics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ScaleGridTest {

    /** A weight gradient's operand [300 rows, 520 tokens] in 1×128 groups: 5 K blocks, the last a tail of 8. */
    @Test
    void columnMajorGroupsLieKBlockByKBlock() {
        ScaleGrid grid = ScaleGrid.ofOperand(Granularity.group(128), 300, 520, true);
        assertTrue(grid.columnMajor());
        assertArrayEquals(new int[] {5, 300}, grid.storedShape());
        // Row r's scale of K block kb at kb * rows + r: one K block's scales side by side.
        assertEquals(0, grid.scaleIndex(0, 0));
        assertEquals(1, grid.scaleIndex(1, 127));
        assertEquals(300 + 7, grid.scaleIndex(7, 128));
        assertEquals(4 * 300 + 299, grid.scaleIndex(299, 519));
        ScaleGrid rowMajor = ScaleGrid.ofOperand(Granularity.group(128), 300, 520, false);
        assertFalse(rowMajor.columnMajor());
        assertEquals(7 * 5 + 1, rowMajor.scaleIndex(7, 128));
    }

    @Test
    void onlyTransposedGroupsChangeOrder() {
        for (Granularity g : new Granularity[] {Granularity.tensor(), Granularity.channel(), Granularity.token(),
                Granularity.block(128)}) {
            assertFalse(ScaleGrid.ofOperand(g, 256, 512, true).columnMajor(), g.describe());
        }
    }

    /** stored() puts every tile's scale where scaleIndex finds it, and rowMajor() undoes it. */
    @Test
    void storedOrderRoundTrips() {
        ScaleGrid grid = ScaleGrid.ofOperand(Granularity.group(64), 7, 200, true);
        ScaleGrid rows = ScaleGrid.of(Granularity.group(64), Axis.COLS, 7, 200);
        float[] rowMajor = new float[grid.scaleCount()];
        for (int i = 0; i < rowMajor.length; i++) {
            rowMajor[i] = i + 1;
        }
        float[] stored = grid.stored(rowMajor);
        for (int r = 0; r < 7; r++) {
            for (int c = 0; c < 200; c++) {
                assertEquals(rowMajor[rows.scaleIndex(r, c)], stored[grid.scaleIndex(r, c)], r + "," + c);
            }
        }
        assertArrayEquals(rowMajor, grid.rowMajor(stored));
        assertArrayEquals(rowMajor, rows.stored(rowMajor));
    }
}
