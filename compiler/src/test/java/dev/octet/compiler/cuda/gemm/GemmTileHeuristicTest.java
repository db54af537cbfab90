package dev.octet.compiler.cuda.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.DType;
import org.junit.jupiter.api.Test;

class GemmTileHeuristicTest {
    private static final GemmTiles LARGE = new GemmTiles(128, 128, 32, 2, 4);
    private static final GemmTiles WIDE = new GemmTiles(128, 64, 32, 2, 2);
    private static final GemmTiles SMALL = new GemmTiles(64, 64, 32, 2, 2);

    private static GemmTiles bf16Tiles(int m, int n) {
        return GemmTileHeuristic.choose(GemmProblem.bf16(m, n, 1024, OperandLayout.K_MAJOR, OperandLayout.K_MAJOR,
                GemmEpilogue.store(DType.BF16)));
    }

    @Test
    void largeProblemsGetTheLargestTile() {
        assertEquals(LARGE, bf16Tiles(4096, 1536));   // Qwen2.5-1.5B fprop: 384 blocks
        assertEquals(LARGE, bf16Tiles(4096, 8960));
        assertEquals(LARGE, bf16Tiles(1024, 50257));  // GPT-2 head shape: 3144 blocks
    }

    @Test
    void aGridSmallerThanTheMachineMovesToSmallerTiles() {
        assertEquals(WIDE, bf16Tiles(1024, 1152));    // 72 large blocks, 144 wide ones
        assertEquals(SMALL, bf16Tiles(1024, 768));    // GPT-2 fprop: 48 and 96 blocks, 192 small ones
        assertEquals(SMALL, bf16Tiles(512, 128));     // tiny: nothing fills 132 SMs; the most blocks wins
    }

    @Test
    void smallMNeverGets128Rows() {
        assertEquals(SMALL, bf16Tiles(64, 50257));
        assertEquals(SMALL, bf16Tiles(1, 100000));
    }

    @Test
    void kStepIs32() {
        GemmTiles bf16 = GemmTileHeuristic.choose(GemmProblem.bf16(4096, 4096, 4096, OperandLayout.K_MAJOR,
                OperandLayout.MN_MAJOR, GemmEpilogue.store(DType.BF16)));
        assertEquals(new GemmTiles(128, 128, 32, 2, 4), bf16);
    }

    @Test
    void everyExampleKernelFillsTheMachineOrUsesTheSmallestTile() {
        for (GemmProblem p : ExampleModelGemms.all().stream().filter(p -> !p.isFp8()).toList()) {
            GemmTiles t = GemmTileHeuristic.choose(p);
            assertTrue(t.blocksFor(p.m(), p.n()) >= GemmTileHeuristic.SM_COUNT || t.blockM() * t.blockN() == 64 * 64,
                    () -> p + " got " + t);
        }
    }

    @Test
    void tilesDeriveWarpAndMmaCounts() {
        assertEquals(64, LARGE.warpTileM());
        assertEquals(32, LARGE.warpTileN());
        assertEquals(4, LARGE.mmaTilesM());
        assertEquals(4, LARGE.mmaTilesN());
        assertEquals(256, LARGE.threads());
        assertEquals(2, SMALL.mmaTilesM());
        assertEquals(96L * 393, LARGE.blocksFor(12288, 50257));
    }
}
