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

    /** Whether K may be split: C += A·Bᵀ into FP32, nothing else in the epilogue, every matrix dense. */
    static boolean splitsK(GemmProblem problem) {
        return problem.epilogue().equals(GemmEpilogue.accumulateF32()) && problem.dense();
    }

    /** Refuses a split of K a template cannot run: into empty ranges, or of anything but C += A·Bᵀ into FP32. */
    static void checkSplits(GemmProblem problem, int kBlocks, int splits, boolean clustered) {
        if (splits < 1 || !everyRangeHoldsK(kBlocks, splits) || (splits > 1 && (clustered || !splitsK(problem)))) {
            throw new IllegalArgumentException("K split " + splits + " ways: 1, or into ranges of whole K blocks ("
                    + kBlocks + ") none of them empty, of C += A·Bᵀ into FP32 without bias, pitches or clusters");
        }
    }

    /** Ranges of ceil(kBlocks / ways) K blocks, the last one the rest: whether that rest is not empty. */
    static boolean everyRangeHoldsK(int kBlocks, int ways) {
        return ways >= 1 && (long) (ways - 1) * Math.ceilDiv(kBlocks, ways) < kBlocks;
    }

    /**
     * The split of K with the least estimated time, in units of one K block of one tile on one SM (taking
     * {@code kBlockSeconds} at the rate the template reaches, times the SMs): waves of work units times their K
     * blocks (plus ~2 for a unit's fill and epilogue), and for a split, the partial sums' traffic (written, read
     * back, and C read and written: 8·(splits + 1) bytes an element at ~3 TB/s). Ranges of at least 4 K blocks, and
     * a split must win by 5%.
     */
    static int chosenSplits(GemmProblem problem, int tiles, int kBlocks, double kBlockSeconds) {
        if (!splitsK(problem)) {
            return 1;
        }
        double smSeconds = kBlockSeconds * GemmTileHeuristic.SM_COUNT, bytesPerSecond = 3.0e12;
        int best = 1;
        double bestCost = Double.MAX_VALUE;
        for (int ways = 1; ways <= 16 && Math.ceilDiv(kBlocks, ways) >= 4; ways++) {
            if (!everyRangeHoldsK(kBlocks, ways)) {
                continue;
            }
            double waves = Math.ceil((double) tiles * ways / GemmTileHeuristic.SM_COUNT);
            double traffic = ways == 1 ? 0 : 8.0 * (ways + 1) * problem.m() * problem.n() / bytesPerSecond / smSeconds;
            double cost = waves * (Math.ceilDiv(kBlocks, ways) + 2) + traffic;
            if (cost < bestCost * 0.95) {
                best = ways;
                bestCost = cost;
            }
        }
        return best;
    }

    /** Output tiles of {@code problem} at {@value #BLOCK_M} × {@code blockN}. */
    static int tiles(GemmProblem problem, int blockN) {
        return Math.ceilDiv(problem.m(), BLOCK_M) * Math.ceilDiv(problem.n(), blockN);
    }

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

    /**
     * {@code name(d, desc_a, desc_b, accumulate)}: one {@code wgmma.mma_async} m64n{blockN} with both operands in
     * shared memory, into the NT × 4 FP32 accumulators d (written when {@code accumulate} is 0, added to else).
     * {@code shape} is the rest of the instruction's shape and types ({@code k32.f32.e4m3.e4m3});
     * {@code immediates} what follows the scale-d predicate (the scales of A and B, and for 16-bit types their
     * transpose bits).
     */
    static String wgmmaFunction(String name, int blockN, String shape, String immediates) {
        int registers = blockN / 2;
        StringBuilder outs = new StringBuilder(), operands = new StringBuilder();
        for (int i = 0; i < registers; i++) {
            outs.append(i == 0 ? "" : ", ").append('%').append(i);
            operands.append(i == 0 ? "" : ", ").append("\"+f\"(d[").append(i / 4).append("][").append(i % 4).append("])");
            if (i % 8 == 7 && i + 1 < registers) {
                operands.append("\n          ");
            }
        }
        return """
                __device__ __forceinline__ void %1$s(float (&d)[NT][4], unsigned long long desc_a, unsigned long long desc_b,
                                                             int accumulate) {
                    asm volatile("{\\n.reg .pred p;\\nsetp.ne.b32 p, %%%4$d, 0;\\n"
                                 "wgmma.mma_async.sync.aligned.m64n%2$d%3$s {%5$s}, %%%6$d, %%%7$d, p, %8$s;\\n}"
                                 : %9$s
                                 : "l"(desc_a), "l"(desc_b), "r"(accumulate));
                }
                """.formatted(name, blockN, shape, registers + 2, outs, registers, registers + 1, immediates, operands);
    }
}
