package dev.octet.compiler.cuda.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.Nvcc;
import dev.octet.compiler.cuda.TensorMapView;
import dev.octet.compiler.cuda.attention.FlashAttentionForwardHopper.Schedule;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Hopper attention forward: its parameter contract matches the mma.sync kernel's (names, order, tensor maps
 * over q, k, v at a head's columns), its persistent grid and shared memory are sized as documented, the selection
 * prefers it, and every variant the example models and the GPU tests use compiles for sm_90a with no spill,
 * no stack frame and no ptxas warning of a serialised wgmma or an ignored setmaxnreg.
 */
class FlashAttentionForwardHopperTest {
    private static final AttentionShape QWEN_8K = new AttentionShape(2, 8192, 12, 2, 128, false);
    private static final AttentionShape RAGGED_DOCS = new AttentionShape(3, 320, 4, 2, 64, true);

    @Test
    void parametersMatchTheMmaKernelsAndReadQkvThroughTensorMaps() {
        for (AttentionShape shape : List.of(QWEN_8K, RAGGED_DOCS)) {
            List<KernelParam> hopper = FlashAttentionForwardHopper.of(shape).params();
            List<KernelParam> mma = new FlashAttentionForward(shape).params();
            assertEquals(mma.stream().map(KernelParam::name).toList(), hopper.stream().map(KernelParam::name).toList());
            assertEquals(mma.stream().map(KernelParam::dtype).toList(), hopper.stream().map(KernelParam::dtype).toList());
            assertEquals(mma.stream().map(KernelParam::access).toList(), hopper.stream().map(KernelParam::access).toList());
        }
        List<KernelParam> params = FlashAttentionForwardHopper.of(QWEN_8K).params();
        TensorMapView.Swizzle b128 = TensorMapView.Swizzle.B128;
        assertEquals(new TensorMapView(16384, 12 * 128, 128, 64, b128), params.get(0).tensorMap().orElseThrow());
        assertEquals(new TensorMapView(16384, 2 * 128, 128, 64, b128), params.get(1).tensorMap().orElseThrow());
        assertEquals(new TensorMapView(16384, 2 * 128, 128, 64, b128), params.get(2).tensorMap().orElseThrow());
        assertTrue(params.get(3).tensorMap().isEmpty());
    }

    @Test
    void persistentGridWithTheRingInDynamicSharedMemory() {
        CudaKernel qwen = FlashAttentionForwardHopper.of(QWEN_8K).emit();
        // 64 query tiles x 12 heads x 2 sequences on one block per SM; q 32 KiB + 3 stages of k and v (64 KiB each)
        // + 1 KiB alignment + 14 mbarriers + a flag
        assertEquals(new LaunchGeometry(132, 1, 1, 384, 1, 1, 1024 + 32768 + 3 * 65536 + 8 * 14 + 8), qwen.launch());
        assertTrue(qwen.source().contains("UNITS = Q_TILES * HEADS * BATCH") && qwen.source().contains("SEQ = 8192"));
        // 320 = 2.5 tiles of 128: the last tile's second half is computed, never stored. 36 units: fewer than the SMs.
        // Document ranges: 3 sequences x 3 tiles x 8 bytes.
        CudaKernel ragged = FlashAttentionForwardHopper.of(RAGGED_DOCS).emit();
        assertEquals(3 * 4 * 3, ragged.launch().gridX());
        assertEquals(1024 + 16384 + 4 * 32768 + 8 * 17 + 8 + 3 * 3 * 8, ragged.launch().sharedBytes());
        assertTrue(qwen.source().contains("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16"));
        assertTrue(qwen.source().contains("setmaxnreg.inc.sync.aligned.u32 232"));
    }

    @Test
    void variantsHaveTheirOwnNamesAndEqualSpecsEqualSources() {
        FlashAttentionForwardHopper overlapped = FlashAttentionForwardHopper.of(QWEN_8K);
        FlashAttentionForwardHopper serial = new FlashAttentionForwardHopper(QWEN_8K, 2, Schedule.SERIAL);
        FlashAttentionForwardHopper pingpong = FlashAttentionForwardHopper.of(QWEN_8K, Schedule.PINGPONG);
        assertEquals("flash_attention_forward_wgmma_b2_s8192_h12_kv2_d128_s3", overlapped.kernelName());
        assertEquals("flash_attention_forward_wgmma_b2_s8192_h12_kv2_d128_s2_serial", serial.kernelName());
        assertEquals("flash_attention_forward_wgmma_b2_s8192_h12_kv2_d128_s3_pingpong", pingpong.kernelName());
        assertEquals(overlapped.emit(), FlashAttentionForwardHopper.of(new AttentionShape(2, 8192, 12, 2, 128, false)).emit());
        assertNotEquals(overlapped.emit().source(), serial.emit().source());
        assertNotEquals(overlapped.emit().source(), pingpong.emit().source());
    }

    @Test
    void tooManyStagesAreRefusedWithWhatFits() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FlashAttentionForwardHopper(QWEN_8K, 4, Schedule.OVERLAPPED));
        assertTrue(e.getMessage().contains("2 to 3 fit"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FlashAttentionForwardHopper(QWEN_8K, 1, Schedule.OVERLAPPED));
    }

    @Test
    void theSelectionPrefersTheHopperKernel() {
        assertInstanceOf(FlashAttentionForwardHopper.class, AttentionKernels.forward(QWEN_8K));
        assertInstanceOf(FlashAttentionForwardHopper.class, AttentionKernels.forward(RAGGED_DOCS));
        // Per-tile document ranges of a sequence of 2^21 tokens would not fit beside the ring.
        AttentionShape huge = new AttentionShape(1, 1 << 21, 1, 1, 128, true);
        assertFalse(FlashAttentionForwardHopper.supports(huge));
        assertInstanceOf(FlashAttentionForward.class, AttentionKernels.forward(huge));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlashAttentionForwardHopper.of(huge));
        assertTrue(e.getMessage().contains("cannot run b1_s2097152_h1_kv1_d128_docs"), e.getMessage());
    }

    static Stream<FlashAttentionForwardHopper> variants() {
        return Stream.of(
                        new AttentionShape(8, 1024, 12, 12, 64, false),   // GPT-2
                        new AttentionShape(2, 8192, 12, 2, 128, false),   // Qwen2.5-1.5B
                        new AttentionShape(2, 8192, 32, 8, 64, false),    // Llama-3.2-1B
                        new AttentionShape(4, 128, 4, 2, 64, true),       // tiny
                        new AttentionShape(2, 320, 4, 2, 128, true))      // ragged, documents
                .flatMap(shape -> Stream.of(FlashAttentionForwardHopper.of(shape),
                        FlashAttentionForwardHopper.of(shape, Schedule.PINGPONG),
                        new FlashAttentionForwardHopper(shape, 2, Schedule.SERIAL)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void compilesOnTheFastPath(FlashAttentionForwardHopper spec) {
        CudaKernel kernel = spec.emit();
        Nvcc.Usage usage = Nvcc.compileWithoutSpills(kernel);
        assertFalse(usage.log().matches("(?s).*C75(0[89]|1[0-9]|2[0-9]).*"), () -> kernel.name() + " slow path:\n" + usage.log());
        assertTrue(usage.log().contains(" 0 bytes stack frame"), () -> kernel.name() + " has a stack frame:\n" + usage.log());
        System.out.printf("%s: %d registers at entry, no spills%n", kernel.name(), usage.registers());
    }
}
