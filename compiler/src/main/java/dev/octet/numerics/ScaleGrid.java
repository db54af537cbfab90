package dev.octet.numerics;

/**
 * The tiling of a {@code [rows, cols]} matrix into scale tiles: each tile is {@code tileRows × tileCols}
 * elements (the last tile along an axis may be partial, see {@link Granularity}'s tail rule) and the scales
 * are stored as a {@code [scaleRows, scaleCols]} matrix, row-major, or with {@code columnMajor} as its transpose
 * {@code [scaleCols, scaleRows]}: the layout the GPU kernels read.
 */
public record ScaleGrid(int rows, int cols, int tileRows, int tileCols, boolean columnMajor) {

    public ScaleGrid {
        if (rows <= 0 || cols <= 0 || tileRows <= 0 || tileCols <= 0) {
            throw new IllegalArgumentException("empty grid: " + rows + "x" + cols + " tiles " + tileRows + "x" + tileCols);
        }
    }

    /** Scales stored row-major. */
    public ScaleGrid(int rows, int cols, int tileRows, int tileCols) {
        this(rows, cols, tileRows, tileCols, false);
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

    /**
     * The scales of an FP8 GEMM operand {@code [rows, k]} quantized along K ({@link Axis#COLS}). Where a fused
     * transpose wrote the codes ({@code transposed}: the operand is the transpose of the tensor quantized, as the
     * weight gradient's are), 1×g groups keep the tensor's orientation, {@code [ceil(k/g), rows]}: the scales of
     * one K block then lie side by side, so the GEMM reads a tile's with a few coalesced loads rather than one
     * scattered load per row, and the quantize kernel writes them so too. Every other layout is row-major.
     */
    public static ScaleGrid ofOperand(Granularity granularity, int rows, int k, boolean transposed) {
        ScaleGrid grid = of(granularity, Axis.COLS, rows, k);
        return columnMajorOperand(granularity, transposed) ? grid.withColumnMajor() : grid;
    }

    /** Whether {@link #ofOperand} stores these scales column-major. */
    public static boolean columnMajorOperand(Granularity granularity, boolean transposed) {
        return transposed && granularity instanceof Granularity.Group;
    }

    /** The same tiles with their scales stored column-major. */
    public ScaleGrid withColumnMajor() {
        return new ScaleGrid(rows, cols, tileRows, tileCols, true);
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

    /** The stored shape of the scales: {@code [scaleRows, scaleCols]}, or its transpose when column-major. */
    public int[] storedShape() {
        return columnMajor ? new int[] {scaleCols(), scaleRows()} : new int[] {scaleRows(), scaleCols()};
    }

    /** Index into the scale array of the tile holding element (r, c). */
    public int scaleIndex(int r, int c) {
        return tileIndex(r / tileRows, c / tileCols);
    }

    /** Index into the scale array of tile (tileRow, tileCol). */
    public int tileIndex(int tileRow, int tileCol) {
        return columnMajor ? tileCol * scaleRows() + tileRow : tileRow * scaleCols() + tileCol;
    }

    /** {@code rowMajor} (one scale per tile, row-major) in this grid's stored order. */
    public float[] stored(float[] rowMajor) {
        return reorder(rowMajor, true);
    }

    /** The scales {@code stored} in this grid's order, row-major: the inverse of {@link #stored}. */
    public float[] rowMajor(float[] stored) {
        return reorder(stored, false);
    }

    private float[] reorder(float[] scales, boolean toStored) {
        if (scales.length != scaleCount()) {
            throw new IllegalArgumentException(scales.length + " scales for a grid of " + scaleCount());
        }
        if (!columnMajor) {
            return scales.clone();
        }
        float[] out = new float[scales.length];
        int sc = scaleCols();
        for (int i = 0; i < scales.length; i++) {
            int at = tileIndex(i / sc, i % sc);
            if (toStored) {
                out[at] = scales[i];
            } else {
                out[i] = scales[at];
            }
        }
        return out;
    }

    /** Width of the scale tiles along a reduction over columns, or cols when one tile spans them all. */
    public int tileWidthAlongCols() {
        return Math.min(tileCols, cols);
    }

    private static int ceilDiv(int a, int b) {
        return Math.ceilDiv(a, b);
    }
}
