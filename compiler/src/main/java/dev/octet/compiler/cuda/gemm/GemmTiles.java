package dev.octet.compiler.cuda.gemm;

/**
 * How one thread block tiles the output: a {@code blockM × blockN} tile of C per block, walked along K in
 * steps of {@code blockK} elements (one shared-memory stage), by {@code warpsM × warpsN} warps, each owning a
 * {@code warpTileM × warpTileN} sub-tile made of 16×8 MMA tiles.
 */
public record GemmTiles(int blockM, int blockN, int blockK, int warpsM, int warpsN) {
    /** Output rows and columns of one mma.sync m16n8k16. */
    static final int MMA_M = 16, MMA_N = 8;

    public GemmTiles {
        if (blockM <= 0 || blockN <= 0 || blockK <= 0 || warpsM <= 0 || warpsN <= 0) {
            throw new IllegalArgumentException("tile extents must be positive: " + describe(blockM, blockN, blockK, warpsM, warpsN));
        }
        if (blockM % (MMA_M * warpsM) != 0 || blockN % (MMA_N * warpsN) != 0) {
            throw new IllegalArgumentException("warp tiles must be whole 16x8 MMA tiles: "
                    + describe(blockM, blockN, blockK, warpsM, warpsN));
        }
        if (blockK % 32 != 0) {
            throw new IllegalArgumentException("blockK must be a multiple of 32 (two m16n8k16 MMAs): "
                    + describe(blockM, blockN, blockK, warpsM, warpsN));
        }
        if (32 * warpsM * warpsN > 1024) {
            throw new IllegalArgumentException("more than 1024 threads: " + describe(blockM, blockN, blockK, warpsM, warpsN));
        }
    }

    public int warpTileM() {
        return blockM / warpsM;
    }

    public int warpTileN() {
        return blockN / warpsN;
    }

    /** MMA tiles per warp along M and N. */
    public int mmaTilesM() {
        return warpTileM() / MMA_M;
    }

    public int mmaTilesN() {
        return warpTileN() / MMA_N;
    }

    public int threads() {
        return 32 * warpsM * warpsN;
    }

    /** Thread blocks needed to cover an {@code m × n} output. */
    public long blocksFor(int m, int n) {
        return (long) Math.ceilDiv(m, blockM) * Math.ceilDiv(n, blockN);
    }

    /** Name fragment: t128x128. */
    String tag() {
        return "t" + blockM + "x" + blockN;
    }

    private static String describe(int bm, int bn, int bk, int wm, int wn) {
        return bm + "x" + bn + "x" + bk + " with " + wm + "x" + wn + " warps";
    }
}
