package dev.octet.compiler.cuda;

import dev.octet.numerics.ScaleGrid;

/** Where a kernel finds a scale of a {@link ScaleGrid}, in the grid's stored order (row- or column-major). */
public final class ScaleIndex {
    private ScaleIndex() {}

    /** The CUDA expression for the index of scale tile ({@code tileRow}, {@code tileCol}): {@link ScaleGrid#tileIndex}. */
    public static String ofTile(ScaleGrid grid, String tileRow, String tileCol) {
        return grid.columnMajor() ? "(" + tileCol + ") * " + grid.scaleRows() + " + (" + tileRow + ")"
                : "(" + tileRow + ") * " + grid.scaleCols() + " + (" + tileCol + ")";
    }

    /** {@code name(r, c)}: the index of the scale of element (r, c), {@link ScaleGrid#scaleIndex}. */
    public static String function(String name, ScaleGrid grid) {
        return "__device__ __forceinline__ int " + name + "(int r, int c) { return "
                + ofTile(grid, "r / " + grid.tileRows(), "c / " + grid.tileCols()) + "; }";
    }
}
