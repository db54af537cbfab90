package dev.octet.compiler.cuda.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Fp8Gemm;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import dev.octet.numerics.ScaleType;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The GEMM specs refuse what their kernels cannot compute, and say why. */
class GemmSpecValidationTest {
    private static final GemmEpilogue BF16 = GemmEpilogue.store(DType.BF16);

    private static void assertRefused(String expectedFragment, Executable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(expectedFragment), () -> "message \"" + e.getMessage()
                + "\" does not mention \"" + expectedFragment + "\"");
    }

    private static GemmProblem fp8(int m, int n, int k, Granularity a, Granularity b) {
        return GemmProblem.fp8(m, n, k, Fp8Format.E4M3, a, Fp8Format.E4M3, b, BF16);
    }

    @Test
    void fp8RefusesKThatIsNotAMultipleOf32() {
        assertRefused("multiple of 32", () -> GemmKernels.forProblem(fp8(64, 64, 100, Granularity.group(128), Granularity.block(128))));
        assertRefused("K=48", () -> GemmKernels.forProblem(fp8(64, 64, 48, Granularity.tensor(), Granularity.tensor())));
    }

    @Test
    void fp8RefusesPromotionChunksSmallerThanOneMma() {
        assertRefused("promotion chunk 16", () -> GemmKernels.forProblem(fp8(64, 64, 256, Granularity.group(16), Granularity.block(128))));
        // gcd(128, 96, 80) = 16
        assertRefused("promotion chunk 16", () -> GemmKernels.forProblem(fp8(64, 64, 480, Granularity.group(96), Granularity.group(80))));
    }

    @Test
    void fp8AcceptsAPartialLastChunkWhereTheOracleHasOne() {
        GemmProblem p = fp8(64, 64, 160, Granularity.group(64), Granularity.block(128));
        assertEquals(64, Fp8WgmmaGemm.promotionChunk(p));
        GemmKernels.forProblem(p).emit();
    }

    @Test
    void promotionChunkIsTheOraclesChunk() {
        Random random = new Random(7);
        int m = 3, n = 5;
        List<Granularity> granularities = List.of(Granularity.tensor(), Granularity.channel(), Granularity.token(),
                Granularity.group(32), Granularity.group(64), Granularity.group(128), Granularity.group(256),
                Granularity.block(64), Granularity.block(128));
        for (int k : new int[] {32, 96, 160, 256, 384}) {
            for (Granularity ga : granularities) {
                for (Granularity gb : granularities) {
                    QuantizedMatrix a = quantize(random, m, k, ga);
                    QuantizedMatrix b = quantize(random, n, k, gb);
                    GemmProblem p = fp8(m, n, k, ga, gb);
                    assertEquals(Fp8Gemm.chunkSize(a, b), Fp8WgmmaGemm.promotionChunk(p), p.toString());
                }
            }
        }
    }

    private static QuantizedMatrix quantize(Random random, int rows, int cols, Granularity g) {
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return Quantizer.quantize(x, rows, cols, g, Axis.COLS, Fp8Format.E4M3, ScaleType.UE8M0);
    }

    @Test
    void problemsRefuseMixedOperandsAndEmptyExtents() {
        assertRefused("must both be FP8 or both BF16", () -> new GemmProblem(64, 64, 64, GemmOperand.bf16(OperandLayout.K_MAJOR),
                new GemmOperand.Fp8(Fp8Format.E4M3, Granularity.tensor(), false), BF16));
        assertRefused("N=0", () -> GemmProblem.bf16(64, 0, 64, OperandLayout.K_MAJOR, OperandLayout.K_MAJOR, BF16));
    }

    @Test
    void specsRefuseTheOtherOperandType() {
        GemmProblem bf16 = GemmProblem.bf16(64, 64, 64, OperandLayout.K_MAJOR, OperandLayout.K_MAJOR, BF16);
        GemmProblem fp8 = fp8(64, 64, 128, Granularity.tensor(), Granularity.tensor());
        assertRefused("operands are not FP8", () -> Fp8WgmmaGemm.of(bf16));
        assertRefused("Fp8WgmmaGemm", () -> Bf16MmaGemm.of(fp8));
        assertRefused("operands are not BF16", () -> Bf16WgmmaGemm.of(fp8));
    }

    @Test
    void bf16TakesWgmmaWhereTmaCanReadBothOperandsElseMmaSync() {
        OperandLayout k = OperandLayout.K_MAJOR, mn = OperandLayout.MN_MAJOR;
        // Contiguous extents: K for a K-major operand, its rows for an MN-major one.
        assertInstanceOf(Bf16WgmmaGemm.class, GemmKernels.forProblem(GemmProblem.bf16(300, 200, 136, k, k, BF16)));
        assertInstanceOf(Bf16WgmmaGemm.class, GemmKernels.forProblem(GemmProblem.bf16(136, 200, 301, mn, mn, BF16)));
        assertInstanceOf(Bf16MmaGemm.class, GemmKernels.forProblem(GemmProblem.bf16(300, 200, 130, k, k, BF16)));
        assertInstanceOf(Bf16MmaGemm.class, GemmKernels.forProblem(GemmProblem.bf16(300, 200, 256, mn, k, BF16)));
        assertInstanceOf(Bf16MmaGemm.class, GemmKernels.forProblem(GemmProblem.bf16(304, 50257, 256, k, mn, BF16)));
        assertRefused("not a multiple of 8", () -> Bf16WgmmaGemm.of(GemmProblem.bf16(64, 64, 100, k, k, BF16)));
    }

    @Test
    void bf16WgmmaTakesWideTilesOnlyWhereEverySmStillGetsOne() {
        OperandLayout k = OperandLayout.K_MAJOR;
        // Qwen2.5-1.5B's LM head at 8192 tokens a chunk: 64 row tiles x 594 column tiles of 256.
        assertEquals(256, Bf16WgmmaGemm.of(GemmProblem.bf16(8192, 151936, 1536, k, k, BF16)).blockN());
        assertEquals(128, Bf16WgmmaGemm.of(GemmProblem.bf16(1024, 768, 768, k, k, BF16)).blockN());
        assertEquals(64, Bf16WgmmaGemm.of(GemmProblem.bf16(1024, 64, 768, k, k, BF16)).blockN());
        Bf16WgmmaGemm wide = Bf16WgmmaGemm.of(GemmProblem.bf16(8192, 151936, 1536, k, k, BF16));
        assertTrue(Bf16WgmmaGemm.sharedBytes(wide.problem(), wide.blockN(), wide.stages(), 1) <= 227 * 1024);
        assertRefused("blockN must be 64, 128 or 256",
                () -> new Bf16WgmmaGemm(GemmProblem.bf16(64, 64, 64, k, k, BF16), 192, 2));
        assertRefused("bytes of shared memory", () -> new Bf16WgmmaGemm(GemmProblem.bf16(64, 64, 64, k, k, BF16), 256, 5));
    }

    @Test
    void epiloguesRefuseAccumulatingInBf16AndOtherOutputs() {
        assertRefused("f32 output", () -> new GemmEpilogue(DType.BF16, true, false, false));
        assertRefused("bf16 or f32", () -> GemmEpilogue.store(DType.E4M3));
    }

    @Test
    void tilesRefuseWarpTilesThatAreNotWholeMmas() {
        assertRefused("whole 16x8 MMA tiles", () -> new GemmTiles(64, 64, 32, 8, 1));
        assertRefused("multiple of 32", () -> new GemmTiles(64, 64, 16, 2, 2));
        assertRefused("blockN must be 64 or 128",
                () -> new Fp8WgmmaGemm(fp8(64, 64, 256, Granularity.group(128), Granularity.block(128)), 96, 4, 1));
        assertRefused("bytes of shared memory",
                () -> new Fp8WgmmaGemm(fp8(64, 64, 256, Granularity.group(128), Granularity.block(128)), 128, 8, 1));
        assertRefused("cluster must be 1 or 2",
                () -> new Fp8WgmmaGemm(fp8(64, 64, 256, Granularity.group(128), Granularity.block(128)), 128, 4, 4));
    }

    /**
     * Row pitches: at least each row's extent; a padded C cannot take a residual (read at C's positions); the wgmma
     * template reads padded rows by TMA (their pitch in the tensor map and the name), mma.sync and FP8 refuse them.
     */
    @Test
    void paddedRowsAreReadByTheWgmmaTemplateOnly() {
        GemmProblem head = GemmProblem.bf16(5248, 768, 50257, OperandLayout.K_MAJOR, OperandLayout.MN_MAJOR, BF16);
        GemmProblem padded = head.withPitches(new GemmProblem.Pitches(50264, 768, 768));
        assertInstanceOf(Bf16MmaGemm.class, GemmKernels.forProblem(head), "rows of 50,257 BF16 do not start on 16 bytes");
        GemmKernel wgmma = assertInstanceOf(Bf16WgmmaGemm.class, GemmKernels.forProblem(padded));
        assertTrue(wgmma.kernelName().contains("_lda50264"), wgmma.kernelName());
        assertEquals(50264, wgmma.emit().params().get(0).tensorMap().orElseThrow().pitch());
        assertRefused("below the rows' extents", () -> head.withPitches(new GemmProblem.Pitches(50000, 768, 768)));
        assertRefused("cannot be padded", () -> GemmProblem.bf16(64, 60, 64, OperandLayout.K_MAJOR, OperandLayout.K_MAJOR,
                BF16.withResidual()).withPitches(new GemmProblem.Pitches(64, 64, 64)));
        assertRefused("back to back", () -> Bf16MmaGemm.of(padded));
        assertRefused("back to back", () -> GemmKernels.forProblem(fp8(128, 128, 128, Granularity.group(128),
                Granularity.block(128)).withPitches(new GemmProblem.Pitches(128, 128, 136))));
    }

    /**
     * K is split only for C += A·Bᵀ into FP32 with few tiles over a long K, into non-empty ranges; a split kernel
     * writes {@code partials} in C's place and its reduction reads them; padded rows are not split.
     */
    @Test
    void kIsSplitForFewTileWeightGradientsOnly() {
        Granularity tokens = Granularity.group(128);
        GemmProblem kv = GemmProblem.fp8(256, 1536, 16384, Fp8Format.E4M3, tokens, Fp8Format.E4M3, tokens,
                GemmEpilogue.accumulateF32());
        GemmKernel split = GemmKernels.forProblem(kv);
        assertEquals(5, split.splits(), "24 tiles over 128 K blocks");
        assertEquals(List.of("a", "a_scales", "b", "b_scales", "partials"),
                split.emit().params().stream().map(KernelParam::name).toList());
        assertEquals(new SplitKReduce(256, 1536, 5), split.splitReduction());
        assertEquals(1, GemmKernels.forProblem(GemmProblem.fp8(8960, 1536, 16384, Fp8Format.E4M3, tokens, Fp8Format.E4M3,
                tokens, GemmEpilogue.accumulateF32())).splits(), "840 tiles fill the SMs");
        assertEquals(1, GemmKernels.forProblem(kv.withEpilogue(GemmEpilogue.store(DType.F32))).splits(), "a store is not split");
        GemmProblem bf16 = GemmProblem.bf16(768, 768, 32768, OperandLayout.MN_MAJOR, OperandLayout.MN_MAJOR,
                GemmEpilogue.accumulateF32());
        assertTrue(GemmKernels.forProblem(bf16).splits() > 1, "GPT-2's 36 tiles over 512 K blocks");
        assertEquals(1, GemmKernels.forProblem(bf16.withPitches(new GemmProblem.Pitches(776, 768, 768))).splits());
        assertRefused("none of them empty", () -> Fp8WgmmaGemm.of(kv).withSplits(200));
        assertRefused("none of them empty", () -> Fp8WgmmaGemm.of(GemmProblem.fp8(256, 256, 1536, Fp8Format.E4M3, tokens,
                Fp8Format.E4M3, tokens, GemmEpilogue.accumulateF32())).withSplits(5));  // 12 K blocks: 3+3+3+3+0
        assertRefused("into FP32", () -> Fp8WgmmaGemm.of(kv.withEpilogue(BF16)).withSplits(2));
        assertRefused("K ranges", () -> new SplitKReduce(64, 64, 1));
    }

    @Test
    void parametersComeInTheDocumentedOrder() {
        GemmEpilogue all = GemmEpilogue.accumulateF32().withBias().withResidual();
        List<KernelParam> fp8 = GemmKernels.forProblem(fp8(64, 64, 128, Granularity.group(128), Granularity.block(128))
                .withEpilogue(all)).emit().params();
        assertEquals(List.of("a", "a_scales", "b", "b_scales", "bias", "residual", "c"), fp8.stream().map(KernelParam::name).toList());
        assertEquals(List.of(DType.E4M3, DType.F32, DType.E4M3, DType.F32, DType.BF16, DType.BF16, DType.F32),
                fp8.stream().map(KernelParam::dtype).toList());
        assertEquals(KernelParam.Access.READ_WRITE, fp8.getLast().access());

        for (GemmKernel kernel : List.of(
                Bf16MmaGemm.of(GemmProblem.bf16(64, 64, 64, OperandLayout.MN_MAJOR, OperandLayout.K_MAJOR, BF16)),
                Bf16WgmmaGemm.of(GemmProblem.bf16(64, 64, 64, OperandLayout.MN_MAJOR, OperandLayout.K_MAJOR, BF16)))) {
            List<KernelParam> bf16 = kernel.emit().params();
            assertEquals(List.of("a", "b", "c"), bf16.stream().map(KernelParam::name).toList());
            assertEquals(KernelParam.Access.WRITE, bf16.getLast().access());
        }
    }

    /** Which GEMMs stage their tile and store it by TMA, and what that makes of the output parameter. */
    @Test
    void outputsGoOutByTmaWhereTmaCanAddressThem() {
        Granularity tokens = Granularity.group(128), blocks = Granularity.block(128);
        // Qwen2.5-1.5B's up projection: C written through a tensor map of 64-row x 64-column boxes (128 bytes of BF16).
        Fp8WgmmaGemm fprop = Fp8WgmmaGemm.of(fp8(16384, 8960, 1536, tokens, blocks));
        KernelParam c = fprop.emit().params().getLast();
        assertEquals(KernelParam.Access.WRITE, c.access());
        assertEquals(64, c.tensorMap().orElseThrow().boxRows());
        assertEquals(64, c.tensorMap().orElseThrow().boxCols());
        assertEquals(128 * 128 * 2, TmaStoreEpilogue.sharedBytes(fprop.problem(), fprop.blockN(), 1));
        // The output projection's residual comes into the staging by TMA, in C's boxes, on a barrier per consumer.
        Fp8WgmmaGemm withResidual = Fp8WgmmaGemm.of(fp8(16384, 1536, 1536, tokens, blocks)
                .withEpilogue(BF16.withResidual()));
        List<KernelParam> params = withResidual.emit().params();
        KernelParam residual = params.get(params.size() - 2);
        assertEquals("residual", residual.name());
        assertEquals(KernelParam.Access.READ, residual.access());
        assertEquals(c.tensorMap().orElseThrow().boxCols(), residual.tensorMap().orElseThrow().boxCols());
        assertEquals(128 * 128 * 2 + 16, TmaStoreEpilogue.sharedBytes(withResidual.problem(), 128, 1));
        // An FP32 output's staging has boxes of 32 columns, the BF16 residual's would have 64: read from global memory.
        GemmProblem f32Residual = fp8(16384, 1536, 1536, tokens, blocks).withEpilogue(GemmEpilogue.store(DType.F32).withResidual());
        List<KernelParam> f32Params = Fp8WgmmaGemm.of(f32Residual).emit().params();
        assertTrue(f32Params.get(f32Params.size() - 2).tensorMap().isEmpty());
        assertTrue(f32Params.getLast().tensorMap().isPresent());
        // Its weight gradient adds into the FP32 dW by TMA reductions: read-write, boxes of 32 floats.
        KernelParam dw = Fp8WgmmaGemm.of(fp8(8960, 1536, 16384, tokens, tokens).withEpilogue(GemmEpilogue.accumulateF32()))
                .emit().params().getLast();
        assertEquals(KernelParam.Access.READ_WRITE, dw.access());
        assertEquals(32, dw.tensorMap().orElseThrow().boxCols());
        // Rows of 100 BF16 (200 bytes) do not start on 16 bytes: stored from registers, a plain buffer.
        assertTrue(Fp8WgmmaGemm.of(fp8(256, 100, 256, tokens, blocks)).emit().params().getLast().tensorMap().isEmpty());
        // Split K: partial sums by TMA only where no row tile reaches past its K range's slice (M a multiple of 128).
        GemmProblem kv = fp8(256, 1536, 16384, tokens, tokens).withEpilogue(GemmEpilogue.accumulateF32());
        assertTrue(Fp8WgmmaGemm.of(kv).withSplits(5).emit().params().getLast().tensorMap().isPresent());
        GemmProblem ragged = fp8(300, 200, 1024, tokens, tokens).withEpilogue(GemmEpilogue.accumulateF32());
        assertTrue(Fp8WgmmaGemm.of(ragged).withSplits(2).emit().params().getLast().tensorMap().isEmpty());
        // BF16 128 x 256 tiles: BF16 outputs staged (64 KiB), FP32 ones would need 128 KiB and are stored from registers.
        OperandLayout k = OperandLayout.K_MAJOR, mn = OperandLayout.MN_MAJOR;
        Bf16WgmmaGemm lmHead = Bf16WgmmaGemm.of(GemmProblem.bf16(8192, 151936, 1536, k, k, BF16));
        assertEquals(256, lmHead.blockN());
        assertTrue(lmHead.emit().params().getLast().tensorMap().isPresent());
        Bf16WgmmaGemm lmHeadGrad = Bf16WgmmaGemm.withTiles(GemmProblem.bf16(151936, 1536, 7040, mn, mn, GemmEpilogue.accumulateF32()), 256);
        assertTrue(lmHeadGrad.emit().params().getLast().tensorMap().isEmpty());
        assertEquals(0, TmaStoreEpilogue.sharedBytes(lmHeadGrad.problem(), 256, 1));
        // ...by reductions in memory (nothing read back), where FP8's 128 x 128 FP32 tile goes out by TMA's reductions.
        assertTrue(lmHeadGrad.emit().source().contains("red.global.add.v2.f32"));
        // Split K writes partial sums, each once, for the reduce kernel to add: plain stores.
        assertFalse(lmHeadGrad.withSplits(3).emit().source().contains("red.global.add"));
        assertFalse(Fp8WgmmaGemm.of(fp8(8960, 1536, 16384, tokens, tokens).withEpilogue(GemmEpilogue.accumulateF32()))
                .emit().source().contains("red.global.add"));
    }
}
