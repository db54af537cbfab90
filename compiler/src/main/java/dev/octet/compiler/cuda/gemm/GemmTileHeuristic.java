package dev.octet.compiler.cuda.gemm;

import java.util.List;

/**
 * Chooses {@link GemmTiles} for a BF16 mma.sync problem shape (FP8 runs on {@link Fp8WgmmaGemm}, which sizes
 * its own tiles).
 *
 * <p><b>Candidates</b>, largest first: 128×128 with 8 warps of 64×32, 128×64 with 4 warps of 64×32, 64×64 with 4
 * warps of 32×32. A 64×32 warp tile is 4×4 MMA tiles: each A fragment feeds four MMAs and each B fragment
 * four.
 *
 * <p><b>Rule.</b> Take the largest candidate that still launches at least one block per SM (132 on the H200):
 * bigger tiles reread A and B less often, but a grid smaller than the machine leaves SMs idle, which costs
 * more than the extra traffic. Where no candidate fills the machine (the tiny model, GPT-2's 768-wide
 * layers at T=1024) the smallest one is taken, since it gives the most blocks. Problems with M ≤ 64 (few
 * tokens, or a narrow wgrad output) skip the 128-row candidates, whose blocks would be half empty.
 *
 * <p><b>K step.</b> 32 elements (64 bytes per row, two m16n8k16 steps), which keeps two stages of a 128×128
 * tile in 40 KiB.
 */
public final class GemmTileHeuristic {
    /** Streaming multiprocessors of the H200 (and H100 SXM). */
    public static final int SM_COUNT = 132;

    public static final int BF16_BLOCK_K = 32;

    private GemmTileHeuristic() {}

    public static GemmTiles choose(GemmProblem problem) {
        int blockK = BF16_BLOCK_K;
        List<GemmTiles> candidates = List.of(
                new GemmTiles(128, 128, blockK, 2, 4),
                new GemmTiles(128, 64, blockK, 2, 2),
                new GemmTiles(64, 64, blockK, 2, 2));
        GemmTiles smallest = candidates.getLast();
        for (GemmTiles tiles : candidates) {
            if (problem.m() <= 64 && tiles.blockM() > 64) {
                continue;
            }
            if (tiles.blocksFor(problem.m(), problem.n()) >= SM_COUNT) {
                return tiles;
            }
        }
        return smallest;
    }
}
