package dev.octet.compiler.cuda.gemm;

/**
 * What the two Hopper GEMM templates ({@link Fp8WgmmaGemm}, {@link Bf16WgmmaGemm}) share: one producer warpgroup
 * that issues the TMA copies with few registers and two consumer warpgroups of 64 rows each that take the rest,
 * one persistent block per SM, and the order in which a block visits its tiles.
 */
final class WarpSpecializedGemm {
    private WarpSpecializedGemm() {}

    static final int BLOCK_M = 128;
    static final int CONSUMERS = 2, THREADS = 128 * (1 + CONSUMERS);
    /** Row tiles per raster group. */
    static final int GROUP_M = 8;
    /** Registers per thread after reallocation: 40 × 128 + 2 × 232 × 128 = 64,512 of the SM's 65,536. */
    static final int PRODUCER_REGISTERS = 40, CONSUMER_REGISTERS = 232;
    /** Dynamic shared memory one block may have on sm_90 (227 KiB). */
    static final int SHARED_LIMIT = 227 * 1024;

    /**
     * {@code tile_of(u, rank, tm, tn)}, over the constants GROUP_M, TILES_M, UNITS_N and CLUSTER: the tile of
     * work unit u for block {@code rank} of its cluster.
     */
    static final String TILE_ORDER = """
            // The tile of work unit u for block `rank` of its cluster. Units are rastered GROUP_M row tiles at a time,
            // all their column units before the next group, so that the blocks running at once share operands in L2.
            // With clusters of 2, a last odd column tile leaves the second block of its pair a tile past N: it loads
            // B's last tile and stores nothing.
            __device__ __forceinline__ void tile_of(int u, unsigned rank, int& tm, int& tn) {
                constexpr int PER_GROUP = GROUP_M * UNITS_N;
                const int first = (u / PER_GROUP) * GROUP_M;
                const int rows = min(TILES_M - first, GROUP_M);
                const int r = u % PER_GROUP;
                tm = first + r % rows;
                tn = (r / rows) * CLUSTER + rank;
            }
            """;
}
