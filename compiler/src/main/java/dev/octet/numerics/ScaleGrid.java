package dev.octet.numerics;

/**
 * The tiling of a {@code [rows, cols]} matrix into scale tiles: each tile is {@code tileRows × tileCols}
 * elements (the last tile along an axis may be partial, see {@link Granularity}'s tail rule) and the scales
 * are stored row-major as a {@code [scaleRows, scaleCols]} matrix, the layout the GPU kernels read.
 */
public record ScaleGrid(int rows, int cols, int tileRows, int tileCols) {

    public ScaleGrid {
        if (rows <= 0 || cols <= 0 || tileRows <= 0 || tileCols <= 0) {
            throw new IllegalArgumentException("empty grid: " + rows + "x" + cols + " tiles " + tileRows + "x" + tileCols);
        }
    }

    public static ScaleGrid of(Granularity granularity, Axis axis, int rows, int cols) {
        boolean alongCols = axis == Axis.COLS;
        return switch (granularity) {
            case Granularity.Tensor t -> new ScaleGrid(rows, cols, rows, cols);
            case Granularity.Channel c -> alongCols ? new ScaleGrid(rows, cols, 1, cols) : new ScaleGrid(rows, cols, rows, 1);
            case Granularity.Token t -> alongCols ? new ScaleGrid(rows, cols, 1, cols) : new ScaleGrid(rows, cols, rows, 1);
            case Granularity.Group g -> alongCols ? new ScaleGrid(rows, cols, 1, g.size()) : new ScaleGrid(rows, cols, g.size(), 1);
            case Granularity.Block b -> new ScaleGrid(rows, cols, b.size(), b.size());
        };
    }

    public int scaleRows() {
        return ceilDiv(rows, tileRows);
    }

    public int scaleCols() {
        return ceilDiv(cols, tileCols);
    }

    public int scaleCount() {
        return scaleRows() * scaleCols();
    }

    /** Index into the scale array of the tile holding element (r, c). */
    public int scaleIndex(int r, int c) {
        return (r / tileRows) * scaleCols() + c / tileCols;
    }

    /** Width of the scale tiles along a reduction over columns, or cols when one tile spans them all. */
    public int tileWidthAlongCols() {
        return Math.min(tileCols, cols);
    }

    private static int ceilDiv(int a, int b) {
        return Math.ceilDiv(a, b);
    }
}
